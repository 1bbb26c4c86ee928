import type { Db, Executor } from '../../platform/db/database.js';

export interface DevPayAccountsTable {
  id: string;
  name: string;
  api_key_hash: string;
  webhook_url: string | null;
  webhook_secret_sealed: string | null;
  created_at: Date;
}

export interface DevPayPaymentsTable {
  payment_id: string;
  account_id: string;
  amount: number;
  reference: string;
  description: string;
  return_url: string;
  language: string;
  /** Pay's state.status: created, started, success, failed or cancelled */
  status: string;
  state_message: string | null;
  state_code: string | null;
  token_hash: string;
  is_token_used: boolean;
  created_at: Date;
  updated_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    dev_pay_accounts: DevPayAccountsTable;
    dev_pay_payments: DevPayPaymentsTable;
  }
}

/** Every SQL statement of the development GOV.UK Pay. */
export class DevPayRepository {
  constructor(private readonly db: Db) {}

  async insertAccount(row: DevPayAccountsTable): Promise<void> {
    await this.db.k.insertInto('dev_pay_accounts').values(row).execute();
  }

  findAccountByKey(apiKeyHash: string): Promise<DevPayAccountsTable | undefined> {
    return this.db.k.selectFrom('dev_pay_accounts').selectAll().where('api_key_hash', '=', apiKeyHash).executeTakeFirst();
  }

  findAccount(id: string): Promise<DevPayAccountsTable | undefined> {
    return this.db.k.selectFrom('dev_pay_accounts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insertPayment(row: DevPayPaymentsTable): Promise<void> {
    await this.db.k.insertInto('dev_pay_payments').values(row).execute();
  }

  findPayment(paymentId: string): Promise<DevPayPaymentsTable | undefined> {
    return this.db.k.selectFrom('dev_pay_payments').selectAll().where('payment_id', '=', paymentId).executeTakeFirst();
  }

  findPaymentByToken(tokenHash: string): Promise<DevPayPaymentsTable | undefined> {
    return this.db.k.selectFrom('dev_pay_payments').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** Opens the next_url once: true for the one caller that found it unused and the payment still `created`. */
  async useToken(paymentId: string, now: Date): Promise<boolean> {
    const r = await this.db.k
      .updateTable('dev_pay_payments')
      .set({ is_token_used: true, status: 'started', updated_at: now })
      .where('payment_id', '=', paymentId)
      .where('is_token_used', '=', false)
      .where('status', '=', 'created')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Moves a payment from one of `from` to its final state: true for the one caller that did,
   * so a payment ends once however many times its buttons are pressed.
   */
  async finish(paymentId: string, from: string[], state: { status: string; message: string | null; code: string | null }, now: Date, ex: Executor = this.db.k): Promise<boolean> {
    const r = await ex
      .updateTable('dev_pay_payments')
      .set({ status: state.status, state_message: state.message, state_code: state.code, updated_at: now })
      .where('payment_id', '=', paymentId)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
