import test from 'ava';
import { parsePythonJson, pythonConstantsIn, pythonConstantsToNull } from '../src/core/python-json.js';

test("Python's NaN and Infinity are read as null outside strings only, and remembered", (t) => {
  t.deepEqual(pythonConstantsToNull('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN \\"Infinity\\"", "d": 1}'), { text: '{"a": null, "b": [null, null], "c": "NaN \\"Infinity\\"", "d": 1}', replaced: 3 });
  const v = parsePythonJson('{"score": NaN}') as object;
  t.deepEqual(v, { score: null });
  t.is(pythonConstantsIn(v), 1);
  const plain = parsePythonJson('{"score": 0.5}') as object;
  t.is(pythonConstantsIn(plain), 0);
  t.throws(() => parsePythonJson('{"score": Nope}'), { instanceOf: SyntaxError });
});
