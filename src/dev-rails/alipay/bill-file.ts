import { crc32, deflateRawSync } from 'node:zlib';

/**
 * The trade bill file as Alipay serves it: a zip of GBK CSV with `#` comment lines around the detail
 * rows, values followed by a tab as Alipay writes them. Made with node:zlib alone.
 */
export const BILL_HEADER = [
  '支付宝交易号',
  '商户订单号',
  '业务类型',
  '商品名称',
  '创建时间',
  '完成时间',
  '门店编号',
  '门店名称',
  '操作员',
  '终端号',
  '对方账户',
  '订单金额（元）',
  '商家实收（元）',
  '支付宝红包（元）',
  '集分宝（元）',
  '支付宝优惠（元）',
  '商家优惠（元）',
  '券核销金额（元）',
  '券名称',
  '商家红包消费金额（元）',
  '卡消费金额（元）',
  '退款批次号/请求号',
  '服务费（元）',
  '分润（元）',
  '备注',
];

export interface BillRow {
  tradeNo: string;
  outTradeNo: string;
  kind: '交易' | '退款';
  subject: string;
  createdAt: string;
  finishedAt: string;
  payer: string;
  /** Yuan, negative for a refund. */
  amount: string;
  refundNo: string;
}

export function billCsv(appId: string, day: string, rows: BillRow[], exportedAt: string): string {
  const cell = (v: string) => `${v.replace(/[,\r\n]/g, ' ')}\t`;
  const lines = rows.map((r) =>
    [
      r.tradeNo,
      r.outTradeNo,
      r.kind,
      r.subject,
      r.createdAt,
      r.finishedAt,
      '',
      '',
      '',
      '',
      r.payer,
      r.amount,
      r.amount,
      '0.00',
      '0.00',
      '0.00',
      '0.00',
      '0.00',
      '',
      '0.00',
      '0.00',
      r.refundNo,
      '0.00',
      '0.00',
      '',
    ]
      .map(cell)
      .join(','),
  );
  const [y, m, d] = day.split('-');
  return [
    '#支付宝业务明细查询',
    `#账号：[${appId}]`,
    `#起始日期：[${y}年${m}月${d}日 00:00:00]   终止日期：[${y}年${m}月${d}日 23:59:59]`,
    '#-----------------------------------------业务明细列表----------------------------------------',
    BILL_HEADER.join(','),
    ...lines,
    '#-----------------------------------------业务明细列表结束------------------------------------',
    `#交易合计：${rows.filter((r) => r.kind === '交易').length}笔`,
    `#退款合计：${rows.filter((r) => r.kind === '退款').length}笔`,
    `#导出时间：[${exportedAt}]`,
    '',
  ].join('\r\n');
}

let gbkTable: Map<string, Buffer> | undefined;

/** Text as GBK bytes (node decodes GBK but has no encoder: the table is the decoder's, inverted once). */
export function encodeGbk(text: string): Buffer {
  if (!gbkTable) {
    gbkTable = new Map();
    const decoder = new TextDecoder('gbk', { fatal: true });
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0x40; trail <= 0xfe; trail++) {
        if (trail === 0x7f) continue;
        const bytes = Buffer.from([lead, trail]);
        try {
          const ch = decoder.decode(bytes);
          if (ch.length === 1 && !gbkTable.has(ch)) gbkTable.set(ch, bytes);
        } catch {
          // not a GBK sequence
        }
      }
    }
  }
  const out: Buffer[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out.push(code < 0x80 ? Buffer.from([code]) : (gbkTable.get(ch) ?? Buffer.from('?')));
  }
  return Buffer.concat(out);
}

/** The earliest DOS date a zip can carry (the files' times mean nothing here). */
const DOS_1980_01_01 = (1 << 5) | 1;

/**
 * The fields an entry's local header and its central directory record both hold, in the same order, from
 * `at` on: the version needed (2.0), the method (deflate), the time, the CRC, both sizes and the name's length.
 */
function entryFields(
  header: Buffer,
  at: number,
  entry: { crc: number; packedLength: number; length: number; nameLength: number },
): void {
  header.writeUInt16LE(20, at);
  header.writeUInt16LE(8, at + 4);
  header.writeUInt16LE(DOS_1980_01_01, at + 8);
  header.writeUInt32LE(entry.crc, at + 10);
  header.writeUInt32LE(entry.packedLength, at + 14);
  header.writeUInt32LE(entry.length, at + 18);
  header.writeUInt16LE(entry.nameLength, at + 22);
}

/** A zip of the given files (deflated), names in GBK without the UTF-8 flag, as Alipay's are. */
export function zip(files: Array<{ name: string; data: Buffer }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = encodeGbk(f.name);
    const packed = deflateRawSync(f.data);
    const crc = crc32(f.data);
    const entry = { crc, packedLength: packed.length, length: f.data.length, nameLength: name.length };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    entryFields(local, 4, entry);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    entryFields(central, 6, entry);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}
