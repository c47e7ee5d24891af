import { html, type Html } from '../html.ts';
import { say, type WordTable } from './console-words.ts';
import { table, type ConsoleContext, type Words } from './console-app.ts';

/**
 * The pieces both consoles build their pages from, written once so that a form, a list or a notice
 * looks and works the same on every page (and a fix to one reaches all).
 */

/** Words said in the console's language; text that needs no translating (a URL) passes as it is. */
const spoken = (ctx: Pick<ConsoleContext, 'say'>, x: Words | string) => (typeof x === 'string' ? x : ctx.say(x));

/** A table whose caption, headings and empty-list sentence are words in both languages. */
export function listTable(
  ctx: Pick<ConsoleContext, 'say'>,
  caption: Words | string,
  head: Array<Words | string>,
  rows: Array<Array<Html | string | number>>,
  empty: Words | string,
): Html {
  return table(
    spoken(ctx, caption),
    head.map((h) => spoken(ctx, h)),
    rows,
    spoken(ctx, empty),
  );
}

/** An alert that something was refused or went wrong, read out by screen readers at once. */
export const alertLine = (text: string | Html) => html`<p class="error" role="alert">${text}</p>`;

/** A form's submit button. */
export const submit = (label: string) => html`<button type="submit">${label}</button>`;

/** A form's idempotency key, drawn when the form is shown, so that a form sent twice acts once. */
export const keyInput = (key: string) => html`<input type="hidden" name="key" value="${key}">`;

/** A search field (`q`), with its label and, where given, a hint. */
export const searchField = (label: string, value: string, placeholder?: string) =>
  placeholder === undefined
    ? html`<label>${label}<input name="q" type="search" value="${value}"></label>`
    : html`<label>${label}<input name="q" type="search" value="${value}" placeholder="${placeholder}"></label>`;

/** A select of API values labelled in the console's language, with "any" first. */
export function anySelect(
  ctx: ConsoleContext,
  name: string,
  words: WordTable,
  values: string[],
  chosen: string | undefined,
): Html {
  const choices = values.map(
    (v) => html`<option value="${v}" ${chosen === v ? html`selected` : ''}>${say(words, v, ctx.lang)}</option>`,
  );
  const any = ctx.say({ en: 'any', 'zh-CN': '全部' });
  return html`<select name="${name}"><option value="">${any}</option>${choices}</select>`;
}

/** A one-button form that posts an action (with its idempotency key) from a list's row. */
export const rowAction = (action: string, key: string, label: string) =>
  html`<form method="post" action="${action}">${keyInput(key)}${button(label, 'secondary')}</form>`;

/** A submit button of a kind (`secondary`, `danger`). */
export const button = (label: string, kind: string) => html`<button type="submit" class="${kind}">${label}</button>`;

/** The step before a destructive action: the question, the button that does it, and the way back. */
export function confirmForm(action: string, question: string, yes: string, backTo: string, keep: string): Html {
  const choice = html`<button type="submit" class="danger">${yes}</button> <a href="${backTo}">${keep}</a>`;
  return html`<form method="post" action="${action}" class="card narrow"><p>${question}</p>${choice}</form>`;
}

/** A secret shown in this answer only (a device token, a signing secret), with why it is shown once. */
export const shownOnce = (why: string, testId: string, secret: string) =>
  html`<div class="ok" role="status"><p>${why}</p><p class="token" data-testid="${testId}">${secret}</p></div>`;

/** One fact of a `<dl class="facts">`: its name and its value, the value findable by tests where named. */
export const fact = (label: string, value: Html | string, testId?: string) =>
  testId === undefined
    ? html`<dt>${label}</dt><dd>${value}</dd>`
    : html`<dt>${label}</dt><dd data-testid="${testId}">${value}</dd>`;

/**
 * A console's navigation from its pages' paths and names, in the order they are shown (the first is where
 * signing in lands): a path and its label are written on one line, so a page is added or renamed in one place.
 */
export const navigation = (links: Readonly<Record<string, Words>>): Array<{ path: string; label: Words }> =>
  Object.entries(links).map(([path, label]) => ({ path, label }));

/** One column of a list: its heading, and what it shows of each row. */
export type Column<Row> = readonly [heading: Words | string, cell: (row: Row) => Html | string | number];

/**
 * A `listTable` written by column, each heading beside what its cells show, so a column is added, moved or
 * dropped in one line instead of keeping the headings and every row's cells in step.
 */
export function columnsTable<Row>(
  ctx: Pick<ConsoleContext, 'say'>,
  caption: Words | string,
  rows: readonly Row[],
  columns: ReadonlyArray<Column<Row>>,
  empty: Words | string,
): Html {
  const headings = columns.map(([heading]) => heading);
  return listTable(
    ctx,
    caption,
    headings,
    rows.map((row) => columns.map(([, cell]) => cell(row))),
    empty,
  );
}
