import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { businessDate, businessDay, isCalendarDate } from './business-day.ts';

describe('business days', () => {
  it('cuts a Shanghai day at 16:00 UTC the day before', () => {
    assert.deepEqual(businessDay('2026-12-01', 'Asia/Shanghai'), {
      start: '2026-11-30T16:00:00.000Z',
      end: '2026-12-01T16:00:00.000Z',
    });
    assert.equal(businessDate(new Date('2026-11-30T16:30:00Z'), 'Asia/Shanghai'), '2026-12-01');
  });
  it('follows a zone with daylight saving through its short day', () => {
    const { start, end } = businessDay('2026-03-29', 'Europe/Berlin');
    assert.equal(start, '2026-03-28T23:00:00.000Z');
    assert.equal(end, '2026-03-29T22:00:00.000Z');
  });
  it('accepts only real calendar dates', () => {
    assert.equal(isCalendarDate('2026-02-28'), true);
    for (const s of ['2026-02-30', '2026-13-01', '20261201', '2026-1-01', 'today'])
      assert.equal(isCalendarDate(s), false, s);
  });
});
