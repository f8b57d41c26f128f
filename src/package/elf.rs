//! The bootstrap check: an x86_64 Linux executable whose glibc needs Lambda can meet.

use object::elf::{self, FileHeader64};
use object::read::elf::{Dyn as _, FileHeader as _, ProgramHeader as _};
use object::read::{Bytes, StringTable};
use object::LittleEndian;

use super::{PackageError, MAX_GLIBC};

// Offsets in e_ident (after the 4 magic bytes); `object` names the fields but not these.
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;

/// What the check learnt about the binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    /// Newest `GLIBC_x.y` symbol version the binary needs; `None` if static or without glibc.
    pub max_glibc: Option<(u32, u32)>,
}

/// Checks that `bytes` is a 64-bit little-endian x86_64 ELF executable (ET_EXEC or ET_DYN) whose
/// required GLIBC_* versions (from .gnu.version_r / verneed) are all <= MAX_GLIBC.
pub fn check_bootstrap(bytes: &[u8]) -> Result<ElfInfo, PackageError> {
    if bytes.is_empty() {
        return Err(PackageError::Empty);
    }
    if !bytes.starts_with(&elf::ELFMAG) {
        return Err(PackageError::NotElf);
    }
    // Class and byte order first, by hand: `object` would only say "unsupported header".
    match bytes.get(EI_CLASS) {
        Some(&elf::ELFCLASS64) => {}
        Some(&elf::ELFCLASS32) => return Err(PackageError::Not64Bit),
        _ => return Err(malformed("unknown ELF class")),
    }
    match bytes.get(EI_DATA) {
        Some(&elf::ELFDATA2LSB) => {}
        Some(&elf::ELFDATA2MSB) => return Err(PackageError::BigEndian),
        _ => return Err(malformed("unknown ELF byte order")),
    }

    // Without its `unaligned` feature, `object` reads structs in place and refuses data that
    // is not 8-byte aligned; heap buffers are, a borrowed sub-slice may not be.
    let copy;
    let data: &[u8] = if bytes.as_ptr().align_offset(8) == 0 {
        bytes
    } else {
        copy = bytes.to_vec();
        &copy
    };

    let endian = LittleEndian;
    let header = FileHeader64::<LittleEndian>::parse(data).map_err(object_error)?;
    let machine = header.e_machine(endian);
    if machine != elf::EM_X86_64 {
        return Err(PackageError::WrongArchitecture {
            arch: machine_name(machine),
        });
    }
    match header.e_type(endian) {
        elf::ET_EXEC | elf::ET_DYN => {}
        elf::ET_REL => return Err(not_executable("a relocatable object file (.o)")),
        elf::ET_CORE => return Err(not_executable("a core dump")),
        other => return Err(not_executable(&format!("an ELF file of type {other}"))),
    }

    // The section table may be stripped (sstrip) while the loader still reads the version
    // needs through the dynamic segment: both are read, the newer version counts.
    let max_glibc = max_glibc_needed(header, data)?.max(max_glibc_in_dynamic(header, data)?);
    if let Some((major, minor)) = max_glibc.filter(|&v| v > MAX_GLIBC) {
        return Err(PackageError::GlibcTooNew { major, minor });
    }
    Ok(ElfInfo { max_glibc })
}

/// The newest glibc version in the version-needs section (any file: libc, libm, ld-linux...).
fn max_glibc_needed(
    header: &FileHeader64<LittleEndian>,
    data: &[u8],
) -> Result<Option<(u32, u32)>, PackageError> {
    let endian = LittleEndian;
    let sections = header.sections(endian, data).map_err(object_error)?;
    let Some((mut needs, strings_index)) =
        sections.gnu_verneed(endian, data).map_err(object_error)?
    else {
        return Ok(None);
    };
    let strings = sections
        .strings(endian, data, strings_index)
        .map_err(object_error)?;
    let mut max = None;
    while let Some((_need, mut auxes)) = needs.next().map_err(object_error)? {
        while let Some(aux) = auxes.next().map_err(object_error)? {
            let name = aux.name(endian, strings).map_err(object_error)?;
            max = max.max(glibc_version(name));
        }
    }
    Ok(max)
}

/// The newest glibc version in the version needs the dynamic segment points at (DT_VERNEED,
/// DT_STRTAB), read the way the loader reads them: through the program headers.
fn max_glibc_in_dynamic(
    header: &FileHeader64<LittleEndian>,
    data: &[u8],
) -> Result<Option<(u32, u32)>, PackageError> {
    let endian = LittleEndian;
    let segments = header.program_headers(endian, data).map_err(object_error)?;
    let mut dynamic = None;
    for segment in segments {
        if let Some(entries) = segment.dynamic(endian, data).map_err(object_error)? {
            dynamic = Some(entries);
        }
    }
    let Some(dynamic) = dynamic else {
        return Ok(None);
    };
    let value = |tag: u32| {
        dynamic
            .iter()
            .find(|d| d.tag32(endian) == Some(tag))
            .map(|d| d.d_val(endian))
    };
    // A virtual address, as the file offset of the loadable segment that holds it.
    let offset = |address: u64| {
        segments
            .iter()
            .filter(|s| s.p_type(endian) == elf::PT_LOAD)
            .find(|s| {
                let start = s.p_vaddr(endian);
                address >= start && address - start < s.p_filesz(endian)
            })
            .map(|s| address - s.p_vaddr(endian) + s.p_offset(endian))
    };
    let (Some(verneed), Some(strtab), Some(strsz)) = (
        value(elf::DT_VERNEED),
        value(elf::DT_STRTAB),
        value(elf::DT_STRSZ),
    ) else {
        return Ok(None);
    };
    let outside = || malformed("the dynamic segment points outside the file");
    let (verneed, strtab) = (
        offset(verneed).ok_or_else(outside)?,
        offset(strtab).ok_or_else(outside)?,
    );
    let strings = StringTable::new(data, strtab, strtab + strsz);
    let bytes = Bytes(data);
    let index = |at: u64| usize::try_from(at).map_err(|_| outside());
    let mut max = None;
    let mut need_at = verneed;
    // Bounded by the file's size: a loop of next-offsets in a damaged file ends too.
    for _ in 0..data.len() / 16 {
        let need = bytes
            .read_at::<elf::Verneed<LittleEndian>>(index(need_at)?)
            .map_err(|()| outside())?;
        let mut aux_at = need_at + u64::from(need.vn_aux.get(endian));
        for _ in 0..need.vn_cnt.get(endian) {
            let aux = bytes
                .read_at::<elf::Vernaux<LittleEndian>>(index(aux_at)?)
                .map_err(|()| outside())?;
            let name = strings
                .get(aux.vna_name.get(endian))
                .map_err(|()| outside())?;
            max = max.max(glibc_version(name));
            aux_at += u64::from(aux.vna_next.get(endian));
        }
        match need.vn_next.get(endian) {
            0 => return Ok(max),
            next => need_at += u64::from(next),
        }
    }
    Err(outside())
}

/// `GLIBC_2.2.5` -> (2, 2), `GLIBC_2.34` -> (2, 34); `GLIBC_PRIVATE` and other names -> None.
fn glibc_version(name: &[u8]) -> Option<(u32, u32)> {
    let rest = std::str::from_utf8(name).ok()?.strip_prefix("GLIBC_")?;
    // Not a number, but a marker only glibc 2.36 and later provide (packed relocations).
    if rest == "ABI_DT_RELR" {
        return Some((2, 36));
    }
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = match parts.next() {
        Some(minor) => minor.parse().ok()?,
        None => 0,
    };
    Some((major, minor))
}

fn machine_name(machine: u16) -> String {
    let name = match machine {
        elf::EM_AARCH64 => "aarch64",
        elf::EM_386 => "x86 (32-bit)",
        elf::EM_ARM => "arm",
        elf::EM_RISCV => "riscv",
        elf::EM_PPC64 => "powerpc64",
        elf::EM_PPC => "powerpc",
        elf::EM_S390 => "s390x",
        elf::EM_MIPS => "mips",
        elf::EM_LOONGARCH => "loongarch64",
        elf::EM_SPARCV9 => "sparc64",
        other => return format!("ELF machine {other}"),
    };
    name.to_owned()
}

fn not_executable(kind: &str) -> PackageError {
    PackageError::NotExecutable {
        kind: kind.to_owned(),
    }
}

fn malformed(reason: &str) -> PackageError {
    PackageError::Malformed {
        reason: reason.to_owned(),
    }
}

fn object_error(e: object::read::Error) -> PackageError {
    malformed(&e.to_string())
}

#[cfg(test)]
mod tests {
    use catup_testkit::elf::{
        build, build_with_names, ElfSpec, EM_386, EM_AARCH64, ET_DYN, ET_EXEC, ET_REL,
    };

    use super::*;

    fn spec(glibc: &[(u32, u32)]) -> ElfSpec {
        ElfSpec::x86_64_needing(glibc)
    }

    #[test]
    fn accepted_binaries() {
        type Case = (&'static str, ElfSpec, Option<(u32, u32)>);
        let cases: Vec<Case> = vec![
            ("2.17 + 2.34", spec(&[(2, 17), (2, 34)]), Some((2, 34))),
            (
                "order does not matter",
                spec(&[(2, 34), (2, 3)]),
                Some((2, 34)),
            ),
            ("static, no verneed", spec(&[]), None),
            (
                "ET_EXEC (non-PIE)",
                ElfSpec {
                    e_type: ET_EXEC,
                    ..spec(&[(2, 28)])
                },
                Some((2, 28)),
            ),
        ];
        for (name, spec, expected) in cases {
            let info =
                check_bootstrap(&build(&spec)).unwrap_or_else(|e| panic!("{name}: refused: {e}"));
            assert_eq!(info.max_glibc, expected, "{name}");
        }
    }

    type Check = fn(&PackageError) -> bool;

    fn assert_refused(cases: Vec<(&str, Vec<u8>, Check, &str)>) {
        for (name, bytes, is_expected, in_message) in cases {
            let err = check_bootstrap(&bytes).expect_err(name);
            assert!(is_expected(&err), "{name}: {err:?}");
            let message = err.to_string();
            assert!(message.contains(in_message), "{name}: {message}");
        }
    }

    #[test]
    fn binaries_that_need_a_newer_glibc_are_refused() {
        let cases: Vec<(&str, Vec<u8>, Check, &str)> = vec![
            (
                "needs 2.35",
                build(&spec(&[(2, 17), (2, 35)])),
                |e| {
                    matches!(
                        e,
                        PackageError::GlibcTooNew {
                            major: 2,
                            minor: 35
                        }
                    )
                },
                "GLIBC_2.35",
            ),
            (
                "needs 2.39 and 2.2.5",
                build_with_names(&spec(&[]), &names(&["GLIBC_2.39", "GLIBC_2.2.5"])),
                |e| {
                    matches!(
                        e,
                        PackageError::GlibcTooNew {
                            major: 2,
                            minor: 39
                        }
                    )
                },
                "cargo zigbuild --target x86_64-unknown-linux-gnu.2.34",
            ),
            (
                "packed relocations",
                build_with_names(&spec(&[]), &names(&["GLIBC_2.17", "GLIBC_ABI_DT_RELR"])),
                |e| {
                    matches!(
                        e,
                        PackageError::GlibcTooNew {
                            major: 2,
                            minor: 36
                        }
                    )
                },
                "GLIBC_2.36",
            ),
        ];
        assert_refused(cases);
    }

    #[test]
    fn binaries_that_are_not_x86_64_linux_executables_are_refused() {
        let cases: Vec<(&str, Vec<u8>, Check, &str)> = vec![
            (
                "aarch64",
                build(&ElfSpec {
                    machine: EM_AARCH64,
                    ..spec(&[(2, 17)])
                }),
                |e| matches!(e, PackageError::WrongArchitecture { .. }),
                "aarch64",
            ),
            (
                "32-bit",
                build(&ElfSpec {
                    machine: EM_386,
                    class64: false,
                    ..spec(&[(2, 0)])
                }),
                |e| matches!(e, PackageError::Not64Bit),
                "64-bit",
            ),
            (
                "big-endian",
                build(&ElfSpec {
                    little_endian: false,
                    ..spec(&[(2, 17)])
                }),
                |e| matches!(e, PackageError::BigEndian),
                "big-endian",
            ),
            (
                "ET_REL",
                build(&ElfSpec {
                    e_type: ET_REL,
                    ..spec(&[])
                }),
                |e| matches!(e, PackageError::NotExecutable { .. }),
                "relocatable",
            ),
            (
                "random bytes",
                (0u8..=255).rev().cycle().take(4096).collect(),
                |e| matches!(e, PackageError::NotElf),
                "not a Linux executable (ELF)",
            ),
            (
                "shell script",
                b"#!/bin/sh\nexec ./server\n".to_vec(),
                |e| matches!(e, PackageError::NotElf),
                "x86_64-unknown-linux-gnu",
            ),
            (
                "empty",
                Vec::new(),
                |e| matches!(e, PackageError::Empty),
                "empty",
            ),
            (
                "truncated after the magic",
                b"\x7fELF\x02\x01\x01".to_vec(),
                |e| matches!(e, PackageError::Malformed { .. }),
                "damaged",
            ),
        ];
        assert_refused(cases);
    }

    #[test]
    fn misaligned_input_is_still_parsed() {
        let mut padded = vec![0u8];
        padded.extend(build(&spec(&[(2, 17)])));
        let info = check_bootstrap(&padded[1..]).unwrap();
        assert_eq!(info.max_glibc, Some((2, 17)));
    }

    #[test]
    fn glibc_private_is_ignored() {
        let bytes = build_with_names(
            &ElfSpec {
                e_type: ET_DYN,
                ..spec(&[])
            },
            &names(&["GLIBC_2.2.5", "GLIBC_PRIVATE"]),
        );
        assert_eq!(check_bootstrap(&bytes).unwrap().max_glibc, Some((2, 2)));
    }

    #[test]
    fn version_names() {
        assert_eq!(glibc_version(b"GLIBC_2.2.5"), Some((2, 2)));
        assert!(glibc_version(b"GLIBC_2.2.5") < Some((2, 34)));
        assert_eq!(glibc_version(b"GLIBC_2.34"), Some((2, 34)));
        assert_eq!(glibc_version(b"GLIBC_2.3.4"), Some((2, 3)));
        assert_eq!(glibc_version(b"GLIBC_PRIVATE"), None);
        assert_eq!(glibc_version(b"GCC_3.0"), None);
        assert_eq!(glibc_version(b"GLIBC_ABI_DT_RELR"), Some((2, 36)));
        assert!(Some((2, 10)) < Some((2, 34)), "numeric, not string, order");
    }

    #[test]
    fn a_binary_without_section_headers_is_read_through_its_dynamic_segment() {
        let Ok(mut binary) = std::fs::read("/bin/true") else {
            return;
        };
        let before = check_bootstrap(&binary)
            .expect("this machine's /bin/true")
            .max_glibc;
        assert!(before.is_some());
        // Claim a newer glibc in the version-name strings (same length), then strip the
        // section table as sstrip does: only the dynamic segment still says what is needed.
        let newest = format!("GLIBC_{}.{}", before.unwrap().0, before.unwrap().1);
        let at = binary
            .windows(newest.len())
            .position(|w| w == newest.as_bytes())
            .expect("the version name");
        binary[at..at + newest.len()].copy_from_slice(&b"GLIBC_2.99"[..newest.len()]);
        for field in [0x28..0x30, 0x3c..0x3e, 0x3e..0x40] {
            binary[field].fill(0); // e_shoff, e_shnum, e_shstrndx
        }
        match check_bootstrap(&binary) {
            Err(PackageError::GlibcTooNew {
                major: 2,
                minor: 99,
            }) => {}
            other => panic!("a stripped section table hid GLIBC_2.99: {other:?}"),
        }
    }

    #[test]
    fn this_machines_bin_true_is_accepted() {
        let Ok(bytes) = std::fs::read("/bin/true") else {
            eprintln!("skipped: /bin/true is absent");
            return;
        };
        if std::env::consts::ARCH != "x86_64" {
            eprintln!("skipped: /bin/true is not x86_64 here");
            return;
        }
        match check_bootstrap(&bytes) {
            // coreutils always needs some glibc; on this machine at most 2.34.
            Ok(info) => {
                let needed = info.max_glibc.expect("/bin/true links glibc");
                assert!(needed >= (2, 2) && needed <= MAX_GLIBC, "{needed:?}");
            }
            // A newer distribution's /bin/true is rightly refused; it still parsed.
            Err(PackageError::GlibcTooNew { major, minor }) => {
                eprintln!(
                    "/bin/true needs glibc {major}.{minor} on this host: refused as it should be"
                );
            }
            Err(e) => panic!("/bin/true refused: {e}"),
        }
    }

    /// The testkit's files are well-formed for `object` in every class and byte order, so
    /// the refusals above come from the checks, not from parse errors.
    #[test]
    fn testkit_elves_parse_with_object() {
        use object::read::elf::FileHeader;
        use object::Endianness;

        fn versions<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Vec<String> {
            let header = H::parse(data).unwrap();
            let endian = header.endian().unwrap();
            let sections = header.sections(endian, data).unwrap();
            let mut found = Vec::new();
            if let Some((mut needs, link)) = sections.gnu_verneed(endian, data).unwrap() {
                let strings = sections.strings(endian, data, link).unwrap();
                while let Some((need, mut auxes)) = needs.next().unwrap() {
                    assert_eq!(need.file(endian, strings).unwrap(), b"libc.so.6");
                    while let Some(aux) = auxes.next().unwrap() {
                        let name = aux.name(endian, strings).unwrap();
                        assert_eq!(aux.vna_hash.get(endian), catup_testkit::elf::elf_hash(name));
                        found.push(String::from_utf8(name.to_vec()).unwrap());
                    }
                }
            }
            found
        }

        for class64 in [true, false] {
            for little_endian in [true, false] {
                let spec = ElfSpec {
                    class64,
                    little_endian,
                    ..spec(&[(2, 17), (2, 34)])
                };
                let bytes = build(&spec);
                let found = if class64 {
                    versions::<elf::FileHeader64<Endianness>>(&bytes)
                } else {
                    versions::<elf::FileHeader32<Endianness>>(&bytes)
                };
                assert_eq!(found, ["GLIBC_2.17", "GLIBC_2.34"], "{spec:?}");
            }
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }
}
