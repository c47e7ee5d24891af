/** The development carrier's store: every SMS each phone received or sent. */
export interface CarrierTables {
  messages: { id: string; seq: number; phone: string; direction: 'mt' | 'mo'; peer: string; text: string; at: string };
}
