import { registerProblemVocabulary } from '../../platform/error-handler.js';
import { ngsiProblem } from './context.errors.js';

// Errors under /ngsi-ld/ are NGSI-LD problem details (…/errors/ResourceNotFound and so on), with Weft's code kept.
registerProblemVocabulary('/ngsi-ld/', ngsiProblem);

export { contextRoutes } from './context.routes.js';
export { ContextService } from './context.service.js';
