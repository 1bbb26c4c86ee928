export { createEventBus, CHANNEL, MAX_EVENT_BYTES } from './bus.js';
export type { EventBus, EventLog } from './bus.js';
