/** The parts of the npm `smpp` package (which ships no types) that tvpay and its tests use. */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server } from 'node:net';

  export interface PDU {
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: any;
    response(options?: Record<string, unknown>): PDU;
    isResponse(): boolean;
  }

  export interface Session extends EventEmitter {
    send(pdu: PDU, responseCallback?: (pdu: PDU) => void, sendCallback?: () => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    [command: string]: any;
  }

  export function connect(options: { url: string; auto_enquire_link_period?: number; connectTimeout?: number }, callback?: () => void): Session;
  export function createServer(listener?: (session: Session) => void): Server;
  export const PDU: new (command: string, options?: Record<string, unknown>) => PDU;
  export const ESME_ROK: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RTHROTTLED: number;
  export const ESM_CLASS: { MC_DELIVERY_RECEIPT: number; UDH_INDICATOR: number };
}
