//! The two bit masks exchanged in option negotiation, and the macro stages.
//!
//! [`Actions`] are the `SMFIF_*` bits of Sendmail's `mfapi.h`: which changes the filter may
//! ask the MTA to make at end of message. [`ProtocolFlags`] are the `SMFIP_*` bits of
//! `mfdef.h`: which events the MTA may leave out (`NO_*`) and which replies the filter
//! leaves out (`NR_*`, "no reply"). Both are plain `u32` newtypes: the MTA may send bits we
//! do not know, and they must survive a round trip, so unknown bits are kept, not rejected.

use std::fmt;

/// Defines a `u32` flag set with named constants, set operations and a `A|B` display.
macro_rules! flag_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $flag:ident = $bit:expr;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(u32);

        impl $name {
            $($(#[$fmeta])* pub const $flag: Self = Self($bit);)*

            /// Every bit named above; `bits()` of the flags this crate knows.
            const NAMED: &'static [(&'static str, u32)] = &[$((stringify!($flag), $bit)),*];

            /// The empty set.
            pub const fn empty() -> Self {
                Self(0)
            }

            /// The set with exactly these bits, known or not (as read from the wire).
            pub const fn from_bits(bits: u32) -> Self {
                Self(bits)
            }

            /// The raw bits, as written on the wire.
            pub const fn bits(self) -> u32 {
                self.0
            }

            /// Whether every bit of `other` is set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Bits set in either.
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// Bits set in both.
            pub const fn intersection(self, other: Self) -> Self {
                Self(self.0 & other.0)
            }

            /// Bits set in `self` but not in `other`.
            pub const fn difference(self, other: Self) -> Self {
                Self(self.0 & !other.0)
            }
        }

        impl std::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, other: Self) -> Self {
                self.union(other)
            }
        }

        impl fmt::Display for $name {
            /// Names joined by `|` (`ADD_HEADERS|QUARANTINE`), unknown bits in hex, `none` if empty.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.0 == 0 {
                    return f.write_str("none");
                }
                let mut rest = self.0;
                let mut first = true;
                for (name, bit) in Self::NAMED {
                    if rest & bit != 0 {
                        if !first {
                            f.write_str("|")?;
                        }
                        f.write_str(name)?;
                        first = false;
                        rest &= !bit;
                    }
                }
                if rest != 0 {
                    if !first {
                        f.write_str("|")?;
                    }
                    write!(f, "{rest:#x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }
    };
}

flag_set! {
    /// `SMFIF_*`: the message changes a filter may request (negotiated once per connection).
    Actions {
        /// `SMFIF_ADDHDRS`: add and insert headers.
        ADD_HEADERS = 0x001;
        /// `SMFIF_CHGBODY`: replace the body.
        CHANGE_BODY = 0x002;
        /// `SMFIF_ADDRCPT`: add recipients.
        ADD_RECIPIENT = 0x004;
        /// `SMFIF_DELRCPT`: remove recipients.
        DELETE_RECIPIENT = 0x008;
        /// `SMFIF_CHGHDRS`: change and delete headers.
        CHANGE_HEADERS = 0x010;
        /// `SMFIF_QUARANTINE`: put the message on hold (Postfix's hold queue).
        QUARANTINE = 0x020;
        /// `SMFIF_CHGFROM`: replace the envelope sender.
        CHANGE_SENDER = 0x040;
        /// `SMFIF_ADDRCPT_PAR`: add recipients with ESMTP parameters.
        ADD_RECIPIENT_WITH_PARAMS = 0x080;
        /// `SMFIF_SETSYMLIST`: choose which macros the MTA sends at each stage.
        SET_MACRO_LIST = 0x100;
    }
}

flag_set! {
    /// `SMFIP_*`: events the MTA leaves out and replies the filter leaves out.
    ProtocolFlags {
        /// `SMFIP_NOCONNECT`: do not send CONNECT.
        NO_CONNECT = 0x0000_0001;
        /// `SMFIP_NOHELO`: do not send HELO.
        NO_HELO = 0x0000_0002;
        /// `SMFIP_NOMAIL`: do not send MAIL.
        NO_MAIL = 0x0000_0004;
        /// `SMFIP_NORCPT`: do not send RCPT.
        NO_RCPT = 0x0000_0008;
        /// `SMFIP_NOBODY`: do not send body chunks.
        NO_BODY = 0x0000_0010;
        /// `SMFIP_NOHDRS`: do not send headers.
        NO_HEADERS = 0x0000_0020;
        /// `SMFIP_NOEOH`: do not send end of headers.
        NO_EOH = 0x0000_0040;
        /// `SMFIP_NR_HDR`: the filter does not reply to headers.
        NR_HEADER = 0x0000_0080;
        /// `SMFIP_NOUNKNOWN`: do not send unknown SMTP commands.
        NO_UNKNOWN = 0x0000_0100;
        /// `SMFIP_NODATA`: do not send DATA.
        NO_DATA = 0x0000_0200;
        /// `SMFIP_SKIP`: the MTA understands `SMFIR_SKIP`.
        SKIP = 0x0000_0400;
        /// `SMFIP_RCPT_REJ`: also send recipients the MTA rejected.
        RCPT_REJECTED = 0x0000_0800;
        /// `SMFIP_NR_CONN`: the filter does not reply to CONNECT.
        NR_CONNECT = 0x0000_1000;
        /// `SMFIP_NR_HELO`: the filter does not reply to HELO.
        NR_HELO = 0x0000_2000;
        /// `SMFIP_NR_MAIL`: the filter does not reply to MAIL.
        NR_MAIL = 0x0000_4000;
        /// `SMFIP_NR_RCPT`: the filter does not reply to RCPT.
        NR_RCPT = 0x0000_8000;
        /// `SMFIP_NR_DATA`: the filter does not reply to DATA.
        NR_DATA = 0x0001_0000;
        /// `SMFIP_NR_UNKN`: the filter does not reply to unknown commands.
        NR_UNKNOWN = 0x0002_0000;
        /// `SMFIP_NR_EOH`: the filter does not reply to end of headers.
        NR_EOH = 0x0004_0000;
        /// `SMFIP_NR_BODY`: the filter does not reply to body chunks.
        NR_BODY = 0x0008_0000;
        /// `SMFIP_HDR_LEADSPC`: header values keep the whitespace after the colon.
        HEADER_LEADING_SPACE = 0x0010_0000;
        /// `SMFIP_MDS_256K`: body chunks may be up to 256 KiB (Sendmail only).
        MAX_DATA_256K = 0x1000_0000;
        /// `SMFIP_MDS_1M`: body chunks may be up to 1 MiB (Sendmail only).
        MAX_DATA_1M = 0x2000_0000;
    }
}

impl ProtocolFlags {
    /// The "no reply" bits for every stage that always answers CONTINUE in this crate.
    ///
    /// Body chunks keep their reply so an oversized message is refused while it streams.
    pub const NO_REPLY_EXCEPT_BODY: Self = Self(
        Self::NR_CONNECT.0
            | Self::NR_HELO.0
            | Self::NR_MAIL.0
            | Self::NR_RCPT.0
            | Self::NR_DATA.0
            | Self::NR_UNKNOWN.0
            | Self::NR_HEADER.0
            | Self::NR_EOH.0,
    );
}

/// `SMFIM_*`: the stage a macro list sent with `SMFIR_SETSYMLIST`-style negotiation applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacroStage {
    /// `SMFIM_CONNECT` (0).
    Connect,
    /// `SMFIM_HELO` (1).
    Helo,
    /// `SMFIM_ENVFROM` (2).
    Mail,
    /// `SMFIM_ENVRCPT` (3).
    Rcpt,
    /// `SMFIM_DATA` (4).
    Data,
    /// `SMFIM_EOM` (5).
    EndOfMessage,
    /// `SMFIM_EOH` (6).
    EndOfHeaders,
}

impl MacroStage {
    /// The stage number on the wire.
    pub const fn code(self) -> u32 {
        match self {
            Self::Connect => 0,
            Self::Helo => 1,
            Self::Mail => 2,
            Self::Rcpt => 3,
            Self::Data => 4,
            Self::EndOfMessage => 5,
            Self::EndOfHeaders => 6,
        }
    }

    /// The stage for a wire number, if it is one of the seven defined.
    pub const fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => Self::Connect,
            1 => Self::Helo,
            2 => Self::Mail,
            3 => Self::Rcpt,
            4 => Self::Data,
            5 => Self::EndOfMessage,
            6 => Self::EndOfHeaders,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_libmilter_bits() {
        assert_eq!(Actions::QUARANTINE.bits(), 0x20);
        assert_eq!(Actions::SET_MACRO_LIST.bits(), 0x100);
        assert_eq!(ProtocolFlags::NR_HEADER.bits(), 1 << 7);
        assert_eq!(ProtocolFlags::HEADER_LEADING_SPACE.bits(), 1 << 20);
        assert_eq!(ProtocolFlags::NO_REPLY_EXCEPT_BODY.bits(), 0x0007_f080);
    }

    #[test]
    fn display_names_known_bits_and_keeps_unknown_ones() {
        let a = Actions::ADD_HEADERS | Actions::QUARANTINE | Actions::from_bits(0x8000);
        assert_eq!(a.to_string(), "ADD_HEADERS|QUARANTINE|0x8000");
        assert_eq!(Actions::empty().to_string(), "none");
    }

    #[test]
    fn set_operations_behave_as_bit_operations() {
        let wanted = Actions::ADD_HEADERS | Actions::CHANGE_BODY;
        let offered = Actions::ADD_HEADERS | Actions::QUARANTINE;
        assert_eq!(wanted.intersection(offered), Actions::ADD_HEADERS);
        assert_eq!(wanted.difference(offered), Actions::CHANGE_BODY);
        assert!(wanted.contains(Actions::CHANGE_BODY));
        assert!(!offered.contains(wanted));
    }

    #[test]
    fn macro_stage_codes_round_trip() {
        for code in 0..7 {
            let stage = MacroStage::from_code(code).expect("0..7 are defined stages");
            assert_eq!(stage.code(), code);
        }
        assert_eq!(MacroStage::from_code(7), None);
    }
}
