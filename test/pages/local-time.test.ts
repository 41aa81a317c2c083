// Wall-clock dates and times in IANA zones, converted with Intl only.
import t from 'tap';
import {
  addDays,
  isLocalDate,
  localDateAtOffset,
  localDateOf,
  localTimeOf,
  zonedDateTimeToInstant,
  zoneOffsetMinutes,
} from '../../src/services/local-time.ts';

t.test('a wall-clock time becomes the instant it names in that zone', async (t) => {
  const cases: Array<[string, string, string, string]> = [
    ['2024-07-01', '23:30', 'America/Los_Angeles', '2024-07-02T06:30:00.000Z'],
    ['2024-01-15', '23:30', 'America/Los_Angeles', '2024-01-16T07:30:00.000Z'],
    ['2024-05-01', '04:00', 'Asia/Kolkata', '2024-04-30T22:30:00.000Z'],
    ['2024-05-01', '00:00', 'Pacific/Chatham', '2024-04-30T11:15:00.000Z'],
    ['2024-05-01', '12:00', 'UTC', '2024-05-01T12:00:00.000Z'],
    // Fall back: 01:30 happens twice in Los Angeles; the first (PDT) is taken.
    ['2024-11-03', '01:30', 'America/Los_Angeles', '2024-11-03T08:30:00.000Z'],
    // Spring forward: 02:30 does not exist; it lands an hour on, at 03:30 PDT.
    ['2024-03-10', '02:30', 'America/Los_Angeles', '2024-03-10T10:30:00.000Z'],
    ['2024-03-31', '02:30', 'Europe/Berlin', '2024-03-31T01:30:00.000Z'],
  ];
  for (const [date, time, zone, expected] of cases) {
    t.equal(zonedDateTimeToInstant(date, time, zone).toISOString(), expected, `${date} ${time} ${zone}`);
  }
});

t.test('instants read back as local dates, times and offsets', async (t) => {
  const instant = new Date('2024-04-30T22:30:00Z');
  t.equal(localDateOf(instant, 'Asia/Kolkata'), '2024-05-01');
  t.equal(localTimeOf(instant, 'Asia/Kolkata'), '04:00');
  t.equal(localDateOf(instant, 'Pacific/Honolulu'), '2024-04-30');
  t.equal(zoneOffsetMinutes(instant, 'Asia/Kolkata'), 330);
  t.equal(zoneOffsetMinutes(instant, 'Pacific/Honolulu'), -600);
  t.equal(zoneOffsetMinutes(new Date('2024-07-01T00:00:00Z'), 'America/Los_Angeles'), -420);
  t.equal(localDateAtOffset(instant, 330), '2024-05-01', 'a WHOOP record dated by its own offset');
  t.equal(localDateAtOffset(instant, -600), '2024-04-30');
});

t.test('calendar arithmetic on date strings', async (t) => {
  t.equal(addDays('2024-02-28', 1), '2024-02-29');
  t.equal(addDays('2024-03-01', -1), '2024-02-29');
  t.equal(addDays('2024-12-31', 1), '2025-01-01');
  t.ok(isLocalDate('2024-02-29'));
  t.notOk(isLocalDate('2023-02-29'));
  t.notOk(isLocalDate('2024-13-01'));
  t.notOk(isLocalDate('24-01-01'));
});
