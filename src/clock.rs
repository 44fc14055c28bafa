//! UTC timestamps as text (ISO 8601 / `xs:dateTime`), both ways, by H. Hinnant's civil-date
//! algorithms: Logto's API dates and SAML's times share them.

/// Unix milliseconds as `2026-11-28T02:14:53.000Z` (with `millis`) or `2026-11-28T02:14:53Z`.
pub fn iso(ms: i64, millis: bool) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if millis {
        let frac = ms.rem_euclid(1000);
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{frac:03}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    }
}

/// A UTC timestamp (`2026-12-07T12:00:00Z`, fractions ignored) as Unix seconds.
pub fn parse(s: &str) -> Option<i64> {
    let s = s.trim().strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_and_read_back_across_leap_days() {
        assert_eq!(iso(0, true), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_800_000_000_123, true), "2027-01-15T08:00:00.123Z");
        assert_eq!(iso(951_782_400_000, false), "2000-02-29T00:00:00Z");
        for t in [0, 951_782_400, 1_796_601_599, 1_800_000_000] {
            assert_eq!(parse(&iso(t * 1000, false)), Some(t));
        }
    }
}
