/**
 * The parts of the npm `smpp` package (which ships no types) that tvpay and its tests use, typed
 * for what they read and send: the gateway binds as a transceiver, submits and takes deliveries;
 * the test SMSC answers binds and submits and delivers.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server } from 'node:net';

  /** A short message as the package decodes it from a PDU: text or bytes, and the user data headers when present. */
  export interface DecodedMessage {
    udh?: Buffer[];
    message: string | Buffer;
  }
  /** A short message to send: text, bytes, or with user data headers (a part of a long SMS). */
  export type ShortMessage = string | Buffer | { udh: Buffer; message: string | Buffer };

  /** The fields of the PDUs tvpay sends and reads (SMPP 3.4 names). */
  export interface PduFields {
    command_status?: number;
    system_id?: string;
    password?: string;
    interface_version?: number;
    source_addr?: string;
    source_addr_ton?: number;
    destination_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    esm_class?: number;
    data_coding?: number;
    registered_delivery?: number;
    short_message?: ShortMessage;
    message_id?: string;
  }

  export interface PDU extends PduFields {
    command: string;
    command_status: number;
    sequence_number: number;
    esm_class: number;
    short_message?: DecodedMessage;
    /** The long-message TLV a delivery may carry instead of `short_message`. */
    message_payload?: DecodedMessage;
    response(options?: PduFields): PDU;
    isResponse(): boolean;
  }

  type Respond = (pdu: PDU) => void;

  export interface Session extends EventEmitter {
    send(pdu: PDU, responseCallback?: Respond, sendCallback?: () => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    bind_transceiver(fields: PduFields, callback: Respond): void;
    submit_sm(fields: PduFields, callback: Respond): void;
    deliver_sm(fields: PduFields, callback: Respond): void;
    unbind(fields: PduFields, callback: Respond): void;
  }

  export function connect(
    options: { url: string; auto_enquire_link_period?: number; connectTimeout?: number },
    callback?: () => void,
  ): Session;
  export function createServer(listener?: (session: Session) => void): Server;
  export const ESME_RBINDFAIL: number;
  export const ESM_CLASS: { MC_DELIVERY_RECEIPT: number };
}
