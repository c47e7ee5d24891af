/**
 * WeChat Pay's trade bill (`GET /v3/bill/tradebill`, `bill_type` `ALL`): CSV whose first line names the
 * columns, whose every field is prefixed with a backquote (so spreadsheets keep long numbers as text),
 * and whose last two lines are a summary (`总交易单数,…` and its values).
 */
import type { BillLine } from '../rail.ts';
import { fromBillTime, yuanToFen } from './wire.ts';

/** The columns of an `ALL` trade bill, in WeChat Pay's order. */
export const TRADE_BILL_COLUMNS = [
  '交易时间',
  '公众账号ID',
  '商户号',
  '特约商户号',
  '设备号',
  '微信订单号',
  '商户订单号',
  '用户标识',
  '交易类型',
  '交易状态',
  '付款银行',
  '货币种类',
  '应结订单金额',
  '代金券金额',
  '微信退款单号',
  '商户退款单号',
  '退款金额',
  '充值券退款金额',
  '退款类型',
  '退款状态',
  '商品名称',
  '商户数据包',
  '手续费',
  '费率',
  '订单金额',
  '申请退款金额',
  '费率备注',
] as const;

/** The summary's caption line, which ends the rows. */
export const TRADE_BILL_SUMMARY_COLUMNS = [
  '总交易单数',
  '应结订单总金额',
  '退款总金额',
  '充值券退款总金额',
  '手续费总金额',
  '订单总金额',
  '申请退款总金额',
] as const;

/** Splits one backquote-prefixed line into its cells. */
export function billCells(line: string): string[] {
  return line.split(',').map((cell) => (cell.startsWith('`') ? cell.slice(1) : cell));
}

/**
 * Parses a trade bill into payment and refund lines in fen. A row WeChat Pay marks `SUCCESS` is a
 * payment; a `REFUND` row whose refund is `SUCCESS` is a refund. Throws on a malformed bill (the
 * caller reports it unavailable): a row that cannot be read must not be silently left out.
 */
export function parseTradeBill(text: string): BillLine[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = billCells(lines[0] ?? '');
  const end = lines.findIndex((l) => l.startsWith(TRADE_BILL_SUMMARY_COLUMNS[0]));
  if (header[0] !== TRADE_BILL_COLUMNS[0] || end < 1) throw new Error('not a WeChat Pay trade bill');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`trade bill without column ${name}`);
    return i;
  };
  const at = col('交易时间');
  const [trade, out, state, settle, refundOut, refundAmt, refundState] = [
    col('微信订单号'),
    col('商户订单号'),
    col('交易状态'),
    col('应结订单金额'),
    col('商户退款单号'),
    col('退款金额'),
    col('退款状态'),
  ];
  const result: BillLine[] = [];
  for (const line of lines.slice(1, end)) {
    const cells = billCells(line);
    const when = fromBillTime(cells[at] ?? '');
    if (!when) throw new Error(`trade bill row with a bad time: ${cells[at] ?? ''}`);
    const base = { outTradeNo: cells[out] ?? '', providerTradeNo: cells[trade] ?? '', at: when };
    if (cells[state] === 'SUCCESS') {
      result.push({ kind: 'payment', ...base, amountMinor: fenOf(cells[settle]) });
    } else if (cells[state] === 'REFUND' && cells[refundState] === 'SUCCESS') {
      const amountMinor = fenOf(cells[refundAmt]);
      result.push({ kind: 'refund', ...base, outRefundNo: cells[refundOut] ?? '', amountMinor });
    }
  }
  return result;
}

function fenOf(text: string | undefined): number {
  const fen = yuanToFen(text ?? '');
  if (fen === undefined) throw new Error(`trade bill amount not in yuan: ${text ?? ''}`);
  return fen;
}
