import { defineErrors } from '../../platform/errors.js';

/** Escalation policies, on-call rotas, webhook secrets and lone-worker visits (the rules module's other codes are in rules.errors.ts). */
export const escalationErrors = defineErrors('rules', {
  ESCALATION_POLICY_NOT_FOUND: { status: 404, message: 'There is no escalation policy with that id.' },
  ESCALATION_POLICY_INVALID: { status: 400, message: 'The escalation policy is not valid. Check the fields named in "errors".' },
  ESCALATION_POLICY_NAME_TAKEN: { status: 409, message: 'An escalation policy with that name already exists. Choose another name.' },
  ESCALATION_POLICY_IN_USE: { status: 409, message: 'Rules use this escalation policy. Give them another policy (or none) first.' },
  ONCALL_ROTA_NOT_FOUND: { status: 404, message: 'That team has no on-call rota.' },
  ONCALL_ROTA_INVALID: { status: 400, message: 'The on-call rota is not valid. Check the fields named in "errors".' },
  WEBHOOK_SECRET_NOT_FOUND: { status: 404, message: 'There is no webhook secret with that name.' },
  VISIT_NOT_FOUND: { status: 404, message: 'You have no visit with that id.' },
  VISIT_INVALID: { status: 400, message: 'The visit is not valid. Check the fields named in "errors".' },
  VISIT_IN_PROGRESS: { status: 409, message: 'You are on a visit already. Check out of it before you start another.' },
  VISIT_CHECKED_OUT: { status: 409, message: 'You have checked out of that visit already.' },
  VISITS_STAFF_ONLY: { status: 403, message: 'Only a signed-in member of staff can start a visit or check out of one: a visit is a person’s, not an API key’s.' },
});
