//! Durations in config files as a number of seconds: an integer when whole, otherwise a
//! float (`timeout = 30`, `data_timeout = 0.5`). Use with serde:
//! `#[serde(with = "sg_common::seconds")] timeout: Duration`.

use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

/// Why `value` is not a usable duration setting (zero, or longer than `max`); `None` if it is.
pub fn problem(value: Duration, max: Duration) -> Option<String> {
    (value.is_zero() || value > max).then(|| {
        format!(
            "{} seconds is not allowed, must be more than 0 and at most {}",
            value.as_secs_f64(),
            max.as_secs()
        )
    })
}

/// Writes whole seconds as an integer, anything else as a float.
pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
    if value.subsec_nanos() == 0 {
        s.serialize_u64(value.as_secs())
    } else {
        s.serialize_f64(value.as_secs_f64())
    }
}

/// Reads a non-negative integer or float number of seconds.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(SecondsVisitor)
}

struct SecondsVisitor;

impl Visitor<'_> for SecondsVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a non-negative number of seconds")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map(Duration::from_secs)
            .map_err(|_| E::custom(format!("{v} seconds is negative")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Duration::try_from_secs_f64(v)
            .map_err(|_| E::custom(format!("{v} is not a usable number of seconds")))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct T {
        #[serde(with = "super")]
        t: Duration,
    }

    #[test]
    fn whole_and_fractional_seconds_round_trip_and_negatives_are_refused() {
        let whole: T = toml::from_str("t = 30").unwrap();
        assert_eq!(whole.t, Duration::from_secs(30));
        assert_eq!(toml::to_string(&whole).unwrap().trim(), "t = 30");
        let half: T = toml::from_str("t = 0.5").unwrap();
        assert_eq!(half.t, Duration::from_millis(500));
        assert_eq!(toml::to_string(&half).unwrap().trim(), "t = 0.5");
        let err = toml::from_str::<T>("t = -1").unwrap_err().to_string();
        assert!(err.contains("negative"), "{err}");
        assert!(toml::from_str::<T>("t = \"x\"").is_err());
        let max = Duration::from_secs(60);
        assert_eq!(super::problem(Duration::from_secs(60), max), None);
        assert!(super::problem(Duration::ZERO, max).is_some());
        let over = super::problem(Duration::from_secs(61), max).unwrap();
        assert!(over.contains("at most 60"), "{over}");
    }
}
