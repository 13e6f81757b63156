/** The --store a message gives the user to paste back. */
import test from 'ava';
import { storeArg } from '../src/core/store-arg.js';

test('a path is shown as it is, or quoted for the shell when it must be; a masked PostgreSQL URL as a placeholder', (t) => {
  t.is(storeArg('/home/ana/memory'), '/home/ana/memory');
  t.is(storeArg('/tmp/my runs/memory'), "'/tmp/my runs/memory'");
  t.is(storeArg("/tmp/ana's/memory"), "'/tmp/ana'\\''s/memory'");
  t.is(storeArg('postgres://root@db:5432/test?schema=ace'), 'postgres://root@db:5432/test?schema=ace');
  t.is(storeArg('postgres://root:***@db:5432/test'), '<your postgres:// URL>');
});
