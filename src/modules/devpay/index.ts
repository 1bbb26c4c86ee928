export { devPayRoutes } from './devpay.routes.js';
export { DEV_PAY_PATH, type DevPayAccount, OUTCOMES, type Outcome } from './devpay.schema.js';
export { DevPayService, EXPIRY_MS } from './devpay.service.js';
