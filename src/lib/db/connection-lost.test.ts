import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toProblem } from '../http/problem.ts';
import { isConnectionLost } from './connection-lost.ts';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('a lost database connection', () => {
  it('is told from a wrong statement by its SQLSTATE, its socket error or node-postgres words', () => {
    assert.equal(isConnectionLost(pgError('57P01', 'terminating connection due to administrator command')), true);
    assert.equal(isConnectionLost(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')), true);
    assert.equal(isConnectionLost(new Error('Connection terminated unexpectedly')), true);
    assert.equal(isConnectionLost(new Error('Client has encountered a connection error and is not queryable')), true);
    assert.equal(isConnectionLost(new Error('wrapped', { cause: pgError('08006', 'connection failure') })), true);
    assert.equal(isConnectionLost(pgError('23505', 'duplicate key value violates unique constraint')), false);
    assert.equal(isConnectionLost(pgError('42P01', 'relation "x" does not exist')), false);
    assert.equal(isConnectionLost(new Error('something else')), false);
  });

  it('is answered 503 STORAGE_UNAVAILABLE with when to retry; a bug stays 500', () => {
    const lost = toProblem(pgError('57P01', 'terminating connection due to administrator command'));
    assert.equal(lost.status, 503);
    assert.equal(lost.code, 'STORAGE_UNAVAILABLE');
    assert.equal(typeof lost.retryAfterSeconds, 'number');
    assert.match(lost.detail, /Retry in \d+ seconds/);
    assert.equal(toProblem(new Error('a bug')).status, 500);
  });
});
