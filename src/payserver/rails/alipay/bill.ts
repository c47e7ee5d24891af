import { inflateRawSync } from 'node:zlib';
import type { BillLine } from '../rail.ts';
import { parseBeijingTime, yuanToFen } from './amounts.ts';

/**
 * Alipay's trade bill (`bill_type` `trade`): a zip holding GBK CSV files, one of them the detail list
 * (业务明细) with `#` comment lines around a header row and one row per payment or refund. Columns are
 * found by their header, so Alipay adding a column does not move ours.
 */
export const BILL_COLUMNS = {
  tradeNo: '支付宝交易号',
  outTradeNo: '商户订单号',
  kind: '业务类型',
  finishedAt: '完成时间',
  amount: '订单金额（元）',
  refundNo: '退款批次号/请求号',
} as const;

/** The bill as downloaded: a zip (real Alipay, and the development one) or a bare CSV. */
export function billText(bytes: Buffer): string {
  if (bytes.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    const files = unzip(bytes);
    const detail = files.find((f) => !f.name.includes('汇总')) ?? files[0];
    if (!detail) throw new Error('the bill zip holds no file');
    return new TextDecoder('gbk').decode(detail.data);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

/** The detail rows of a bill's CSV text, in fen; throws with what is wrong when a row cannot be read. */
export function parseTradeBill(text: string): BillLine[] {
  const rows = text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split(',').map((c) => c.trim()));
  const header = rows.shift();
  if (!header) return [];
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`the bill has no column ${name}`);
    return i;
  };
  const c = Object.fromEntries(Object.entries(BILL_COLUMNS).map(([k, name]) => [k, col(name)])) as Record<
    keyof typeof BILL_COLUMNS,
    number
  >;
  return rows.map((r, n) => {
    const kind = r[c.kind] === '退款' ? 'refund' : r[c.kind] === '交易' ? 'payment' : undefined;
    const amountMinor = yuanToFen((r[c.amount] ?? '').replace(/^-/, ''));
    const at = parseBeijingTime(r[c.finishedAt]);
    if (!kind || amountMinor === undefined || !at || !r[c.outTradeNo] || !r[c.tradeNo]) {
      throw new Error(`bill row ${n + 1} is not readable`);
    }
    const line: BillLine = { kind, outTradeNo: r[c.outTradeNo]!, providerTradeNo: r[c.tradeNo]!, amountMinor, at };
    return kind === 'refund' && r[c.refundNo] ? { ...line, outRefundNo: r[c.refundNo] } : line;
  });
}

/** The files of a zip (stored or deflated), read through its central directory. */
export function unzip(zip: Buffer): Array<{ name: string; data: Buffer }> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const files: Array<{ name: string; data: Buffer }> = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('zip central directory is corrupt');
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const utf8 = (zip.readUInt16LE(at + 8) & 0x800) !== 0;
    const nameBytes = zip.subarray(at + 46, at + 46 + nameLength);
    const name = new TextDecoder(utf8 ? 'utf-8' : 'gbk').decode(nameBytes);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + size);
    if (method !== 0 && method !== 8) throw new Error(`zip method ${method} is not supported`);
    files.push({ name, data: method === 8 ? inflateRawSync(raw, { maxOutputLength: 16 << 20 }) : raw });
    at += 46 + nameLength + extra;
  }
  return files;
}
