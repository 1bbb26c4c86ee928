// Runs first in <body>: marks the page as having JavaScript, as the GOV.UK template does inline.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
