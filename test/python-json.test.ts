import test from 'ava';
import { parsePythonJson, pythonConstantsIn, pythonConstantsToNull, roundedIntegerCount, roundedIntegersIn } from '../src/core/python-json.js';

test("Python's NaN and Infinity are read as null outside strings only, and remembered", (t) => {
  t.deepEqual(pythonConstantsToNull('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN \\"Infinity\\"", "d": 1}'), { text: '{"a": null, "b": [null, null], "c": "NaN \\"Infinity\\"", "d": 1}', replaced: 3 });
  const v = parsePythonJson('{"score": NaN}') as object;
  t.deepEqual(v, { score: null });
  t.is(pythonConstantsIn(v), 1);
  const plain = parsePythonJson('{"score": 0.5}') as object;
  t.is(pythonConstantsIn(plain), 0);
  t.throws(() => parsePythonJson('{"score": Nope}'), { instanceOf: SyntaxError });
});

test('integers beyond 2^53, which JSON.parse rounds, are counted outside strings only, and remembered', (t) => {
  // 2^53 + 1 and a large negative round; 2^53 itself, a string, and float literals do not.
  t.is(roundedIntegerCount('{"a": 9007199254740993, "b": [-12345678901234567890], "c": "9007199254740993", "d": 9007199254740992, "e": 1.2345678901234567e+30, "f": 12345678901234567890.5}'), 2);
  const v = parsePythonJson('{"t_ns": 1732790000123456789}') as object;
  t.is(roundedIntegersIn(v), 1);
  t.is(roundedIntegersIn(parsePythonJson('{"t": 1732790000, "id": "1732790000123456789"}') as object), 0);
  // Already in the digits JavaScript writes (a JavaScript agent's Date.now() * 1e6, written by ace-orch): a write keeps it.
  t.is(roundedIntegersIn(parsePythonJson('{"t_ns": 1732790000123456800}') as object), 0);
  t.is(roundedIntegersIn({ t_ns: 2 ** 60 }), 0, 'a value parsePythonJson did not read was not rounded by it');
  // Too large for a double: read as Infinity, written as null.
  t.is(roundedIntegersIn(parsePythonJson(`{"h": ${'1'.repeat(310)}, "f": 1e400, "n": -Infinity}`) as object), 2);
  const both = parsePythonJson('{"x": NaN, "t_ns": 1732790000123456789}') as object;
  t.is(pythonConstantsIn(both), 1);
  t.is(roundedIntegersIn(both), 1);
});
