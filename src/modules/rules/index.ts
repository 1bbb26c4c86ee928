import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'rules:read': { description: 'See rules, try them on past data, and see air quality and car park availability', roles: ['officer', 'service', 'care', 'comms', 'viewer'] },
  'rules:manage': { description: 'Create, change, enable and disable rules', roles: ['officer'] },
  'alarms:read': { description: 'See alarms and their history', roles: ['officer', 'service', 'care', 'viewer'] },
  'alarms:manage': { description: 'Acknowledge, assign, comment on and clear alarms', roles: ['officer', 'service', 'care'] },
  'visits:start': { description: 'Start your own lone-worker visits and check out of them', roles: ['care'] },
});

consoleNav.push({ href: '/console/alarms', text: 'Alarms', permission: 'alarms:read' });
consoleNav.push({ href: '/console/air-quality', text: 'Air quality', permission: 'rules:read' });
consoleNav.push({ href: '/console/visits', text: 'Visits', permission: 'visits:start' });

export { ALARM_ACTION_JOB, ALARM_CHANGED, type AlarmChanged, AlarmsService, alarmView, openKeyOf } from './alarms.service.js';
export { daqiBand, daqiIndex, DAQI_POLLUTANTS, overallDaqi, type DaqiReading, type Pollutant } from './daqi.js';
export { ruleSentence } from './describe.js';
export { rulesApi } from './rules.routes.js';
export type { Action, AlarmView, Condition, RuleCreate, RuleView, Scope, Severity } from './rules.schema.js';
export { RULES_CHANGED, RulesService, SILENCE_JOB } from './rules.service.js';
export { AlarmActions, webhookSignature } from './actions.js';
export { ESCALATE_JOB, ESCALATION_SEND_JOB, EscalationService } from './escalation.service.js';
export { escalationApi } from './escalation.routes.js';
export { LoneWorkerService, VISIT_DEADLINE_JOB } from './lone-worker.service.js';
export { loneWorkerApi } from './lone-worker.routes.js';
export { loneWorkerPages } from './lone-worker.pages.js';
export { StaffAlerts } from './staff-alerts.js';
export { alarmResponses } from './responses.js';
