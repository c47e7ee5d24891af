import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getCountries, getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import mobileExamples from 'libphonenumber-js/mobile/examples';
import { DomainError } from './errors.ts';
import { maskPhone, normalizePhone, phoneDigits } from './phone.ts';

const CN = ['CN'];
const rejects = (input: unknown, regions = CN) =>
  assert.throws(
    () => normalizePhone(input, regions),
    (e: unknown) => e instanceof DomainError && e.code === 'PHONE_INVALID' && e.kind === 'invalid',
  );

describe('phone normalisation', () => {
  it('accepts a mainland mobile however it is typed and stores E.164', () => {
    for (const typed of [
      '13800138000',
      '+86 138 0013 8000',
      '+8613800138000',
      '8613800138000',
      '008613800138000',
      '138-0013-8000',
      '１３８００１３８０００',
    ]) {
      assert.equal(normalizePhone(typed, CN), '+8613800138000', typed);
    }
  });
  it('refuses invalid numbers, landlines, foreign mobiles and non-strings with PHONE_INVALID', () => {
    rejects('12345');
    rejects('1380013800');
    rejects('01012345678');
    rejects('+14155552671');
    rejects('+85261234567');
    rejects('');
    rejects(13800138000);
    rejects('not a phone');
  });
  it('accepts another region once it is configured', () => {
    assert.equal(normalizePhone('+852 6123 4567', ['CN', 'HK']), '+85261234567');
  });
  it('masks the middle of the number for TVs', () => {
    assert.equal(maskPhone('+8613800138000'), '+86 138****8000');
    assert.equal(maskPhone('+85261234567'), '+852 612*4567');
    assert.equal(maskPhone('+14155552671'), '+1 415***2671');
  });
  it("splits every region's E.164 mobile at its calling code as a full parse with the metadata does", () => {
    const byParse = (e164: string) => {
      const parsed = parsePhoneNumberFromString(e164)!;
      const national = parsed.nationalNumber;
      return (
        `+${parsed.countryCallingCode} ${national.slice(0, 3)}` +
        `${'*'.repeat(Math.max(0, national.length - 7))}${national.slice(-4)}`
      );
    };
    let checked = 0;
    for (const country of getCountries()) {
      const example = getExampleNumber(country, mobileExamples);
      if (!example) continue;
      assert.equal(maskPhone(example.number), byParse(example.number), `${country} ${example.number}`);
      checked++;
    }
    assert.ok(checked > 200, `${checked} regions`);
  });
  it('writes the URL form without the plus', () => {
    assert.equal(phoneDigits('+8613800138000'), '8613800138000');
  });
});
