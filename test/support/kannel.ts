import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.ts';
import { freePorts } from './ports.ts';

const BEARERBOX = '/usr/sbin/bearerbox';
const SMSBOX = '/usr/sbin/smsbox';
const FAKESMSC = '/usr/lib/kannel/test/fakesmsc';

/** Skip reason when Debian's Kannel is missing (said loudly), or a failure when TVPAY_REQUIRE_KANNEL=1. */
export function kannelSkip(): string | false {
  if ([BEARERBOX, SMSBOX, FAKESMSC].every((f) => existsSync(f))) return false;
  const message = 'Kannel is not installed (apt-get install kannel kannel-extras): SKIPPING the Kannel tests';
  if (process.env.TVPAY_REQUIRE_KANNEL === '1') throw new Error(`${message} is not allowed (TVPAY_REQUIRE_KANNEL=1)`);
  console.warn(`\n!!! ${message} !!!\n`);
  return message;
}

export interface MtMessage {
  from: string;
  to: string;
  text: string;
}

/** fakesmsc prints each SMS it receives as "Got message N: <from to type data>"; UCS-2 data is URL-encoded big-endian. */
export function parseFakeSmsc(line: string): MtMessage | null {
  const m = /Got message \d+: <(\S+) (\S+) (\S+) (.*)>$/.exec(line.trim());
  if (!m) return null;
  const [, from, to, type, data] = m as unknown as [string, string, string, string, string];
  const bytes = Buffer.from(unescape(data), 'latin1');
  if (type === 'ucs-2' || type === 'ucs2') {
    const swapped = Buffer.alloc(bytes.length);
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      swapped[i] = bytes[i + 1]!;
      swapped[i + 1] = bytes[i]!;
    }
    return { from, to, text: swapped.toString('utf16le') };
  }
  return { from, to, text: bytes.toString('latin1') };
}

/**
 * A real Kannel from Debian, offline: bearerbox with the fake SMSC, smsbox
 * with a sendsms user, and an sms-service routing every reply to `moUrl`.
 * `phone` receives what leaves through Kannel; `send` injects a reply.
 */
export async function startKannel() {
  const dir = mkdtempSync(join(tmpdir(), 'tvpay-kannel-'));
  const [admin, smsboxPort, sendsms, fake] = await freePorts(4);
  const children: ChildProcess[] = [];
  const received: MtMessage[] = [];
  let receiver: ChildProcess | undefined;

  function run(bin: string, args: string[], onLine?: (line: string) => void) {
    const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    const feed = (d: Buffer) => {
      buffer += d.toString('latin1');
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        onLine?.(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
      }
    };
    child.stdout!.on('data', feed);
    child.stderr!.on('data', feed);
    children.push(child);
    return child;
  }

  const startReceiver = () => {
    receiver = run(FAKESMSC, ['-H', '127.0.0.1', '-r', String(fake), '-m', '0', 'x y text z'], (line) => {
      const msg = parseFakeSmsc(line);
      if (msg) received.push(msg);
    });
  };

  return {
    sendsmsUrl: `http://127.0.0.1:${sendsms}/cgi-bin/sendsms`,
    user: 'tvpay',
    password: 'kannel-test-secret',
    received,
    /** Writes the configuration and starts bearerbox, the fake SMSC and smsbox. */
    async start(moUrl: string) {
      writeFileSync(
        join(dir, 'kannel.conf'),
        `group = core
admin-port = ${admin}
admin-password = test
status-password = test
admin-allow-ip = "127.0.0.1"
smsbox-port = ${smsboxPort}
box-allow-ip = "127.0.0.1"
log-file = "${join(dir, 'bearerbox.log')}"
log-level = 1
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = FAKE
port = ${fake}
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${smsboxPort}
sendsms-port = ${sendsms}
log-file = "${join(dir, 'smsbox.log')}"
log-level = 1
mo-recode = true

group = sendsms-user
username = tvpay
password = kannel-test-secret
max-messages = 3
concatenation = true
user-allow-ip = "127.0.0.1"

group = sms-service
keyword = default
catch-all = true
get-url = "${moUrl}"
max-messages = 0
omit-empty = true
`,
      );
      run(BEARERBOX, ['-v', '1', 'kannel.conf']);
      await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${admin}/status.txt?password=test`);
          if (!res.ok) throw new Error('bearerbox not up');
        },
        20_000,
        200,
      );
      startReceiver();
      run(SMSBOX, ['-v', '1', 'kannel.conf']);
      await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${sendsms}/cgi-bin/sendsms`);
          await res.text();
        },
        20_000,
        200,
      );
    },
    /** A phone replies: the fake SMSC hands Kannel one mobile-originated SMS (it serves one client at a time). */
    async send(from: string, to: string, text: string) {
      receiver?.kill('SIGKILL');
      const injector = run(FAKESMSC, [
        '-H',
        '127.0.0.1',
        '-r',
        String(fake),
        '-m',
        '1',
        '-i',
        '0.1',
        `${from} ${to} text ${text}`,
      ]);
      await new Promise((r) => setTimeout(r, 1500));
      injector.kill('SIGKILL');
      startReceiver();
    },
    async stop() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
