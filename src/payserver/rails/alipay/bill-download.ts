import type { BillOutcome } from '../rail.ts';
import { billText, parseTradeBill } from './bill.ts';

/**
 * Downloads a bill from the short-lived `bill_download_url` Alipay gave (a plain GET, no signature), with
 * a time-out and a cap on its size, and parses it. Any failure leaves the bill unavailable for now.
 */
export async function downloadBill(url: string, limits: { timeoutMs: number; maxBytes: number }): Promise<BillOutcome> {
  let bytes: Buffer;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(limits.timeoutMs), redirect: 'follow' });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return { state: 'unavailable', reason: `the bill download answered ${response.status}` };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Uint8Array).length;
      if (size > limits.maxBytes)
        return { state: 'unavailable', reason: `the bill is larger than ${limits.maxBytes} bytes` };
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    bytes = Buffer.concat(chunks);
  } catch (err) {
    return {
      state: 'unavailable',
      reason: `the bill download failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  try {
    return { state: 'ok', lines: parseTradeBill(billText(bytes)) };
  } catch (err) {
    return { state: 'unavailable', reason: `the bill is not readable: ${(err as Error).message}` };
  }
}
