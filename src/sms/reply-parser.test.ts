import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReplyCode } from './reply-parser.ts';

describe('SMS reply parsing', () => {
  it('finds the code however the user typed it', () => {
    const whole = ['384912', ' 384912 ', '确认 384912', '确认支付384912谢谢', '３８４９１２'];
    const split = ['384 912', '384-912', 'ok 384912 thanks', '回复：３８４ ９１２'];
    for (const text of [...whole, ...split]) {
      assert.equal(parseReplyCode(text), '384912', text);
    }
  });
  it('finds no code in text without exactly one six-digit code', () => {
    for (const text of ['', 'hello', '12345', '1234567', '384912 384913', '是的']) {
      assert.equal(parseReplyCode(text), null, text);
    }
  });
});
