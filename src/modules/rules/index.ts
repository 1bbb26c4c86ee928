import { definePermissions } from '../../platform/auth/roles.js';

definePermissions({
  'rules:read': { description: 'See rules, try them on past data, and see air quality and car park availability', roles: ['officer', 'service', 'care', 'comms', 'viewer'] },
  'rules:manage': { description: 'Create, change, enable and disable rules', roles: ['officer'] },
  'alarms:read': { description: 'See alarms and their history', roles: ['officer', 'service', 'care', 'viewer'] },
  'alarms:manage': { description: 'Acknowledge, assign, comment on and clear alarms', roles: ['officer', 'service', 'care'] },
});

export { ALARM_ACTION_JOB, ALARM_CHANGED, type AlarmChanged, AlarmsService, alarmView, openKeyOf } from './alarms.service.js';
export { daqiBand, daqiIndex, DAQI_POLLUTANTS, overallDaqi, type DaqiReading, type Pollutant } from './daqi.js';
export { ruleSentence } from './describe.js';
export { rulesApi } from './rules.routes.js';
export type { Action, AlarmView, Condition, RuleCreate, RuleView, Scope, Severity } from './rules.schema.js';
export { RULES_CHANGED, RulesService, SILENCE_JOB } from './rules.service.js';
