/**
 * The development Alipay's answers, shaped as Alipay's gateway shapes them (public codes and sub_codes of
 * https://opendocs.alipay.com/common/02km9f and each API's business errors).
 */
export interface GatewayResponse {
  code: string;
  msg: string;
  [field: string]: unknown;
}

export const success = (fields: Record<string, unknown>): GatewayResponse => ({
  code: '10000',
  msg: 'Success',
  ...fields,
});

/** A business refusal (`40004`) with its ACQ.* (or other) sub_code. */
export const businessFailed = (subCode: string, subMsg: string): GatewayResponse => ({
  code: '40004',
  msg: 'Business Failed',
  sub_code: subCode,
  sub_msg: subMsg,
});

/** An argument error (`40002`): bad signature, app id, parameter. */
export const invalidArguments = (subCode: string, subMsg: string): GatewayResponse => ({
  code: '40002',
  msg: 'Invalid Arguments',
  sub_code: subCode,
  sub_msg: subMsg,
});

export const missingArguments = (subCode: string, subMsg: string): GatewayResponse => ({
  code: '40001',
  msg: 'Missing Required Arguments',
  sub_code: subCode,
  sub_msg: subMsg,
});
