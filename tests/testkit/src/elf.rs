//! Synthetic ELF files for package tests, so they never need a real compiler output.
//!
//! [`build`] writes a minimal but well-formed ELF: the file header and a section table with
//! `.dynstr`, `.gnu.version_r` (the glibc versions a binary needs) and `.shstrtab`. There is no
//! code and no program headers: only what a reader such as `object` or `readelf -V` looks at.

/// `e_machine` values (from the ELF spec; written out so the testkit needs no ELF crate).
pub const EM_386: u16 = 3;
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

/// `e_type` values.
pub const ET_REL: u16 = 1;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;

const SHT_STRTAB: u32 = 3;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
const SHF_ALLOC: u64 = 2;

/// What the synthetic ELF looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfSpec {
    /// `e_machine`, e.g. [`EM_X86_64`] or [`EM_AARCH64`].
    pub machine: u16,
    /// ELFCLASS64 when true, ELFCLASS32 otherwise.
    pub class64: bool,
    /// ELFDATA2LSB when true, ELFDATA2MSB otherwise.
    pub little_endian: bool,
    /// `e_type`: [`ET_EXEC`], [`ET_DYN`] or [`ET_REL`].
    pub e_type: u16,
    /// Each becomes a `GLIBC_x.y` verneed aux under `libc.so.6`; empty means no
    /// `.gnu.version_r` at all (like a static binary).
    pub glibc_versions: Vec<(u32, u32)>,
}

impl ElfSpec {
    /// A 64-bit little-endian x86_64 PIE (ET_DYN, like a Rust binary) needing these versions.
    pub fn x86_64_needing(glibc: &[(u32, u32)]) -> ElfSpec {
        ElfSpec {
            machine: EM_X86_64,
            class64: true,
            little_endian: true,
            e_type: ET_DYN,
            glibc_versions: glibc.to_vec(),
        }
    }
}

/// Writes the ELF described by `spec`.
pub fn build(spec: &ElfSpec) -> Vec<u8> {
    build_with_names(spec, &version_names(&spec.glibc_versions))
}

/// Like [`build`], but with verneed aux names given verbatim (e.g. `GLIBC_2.2.5`,
/// `GLIBC_PRIVATE`), for versions that `(major, minor)` cannot spell.
pub fn build_with_names(spec: &ElfSpec, names: &[String]) -> Vec<u8> {
    let mut w = Writer {
        buf: Vec::new(),
        le: spec.little_endian,
        class64: spec.class64,
    };
    let ehsize: u16 = if spec.class64 { 64 } else { 52 };
    let shentsize: u16 = if spec.class64 { 64 } else { 40 };
    let word_align = if spec.class64 { 8 } else { 4 };

    // Section names; offsets into .shstrtab.
    let mut shstrtab = StrTab::new();
    let name_dynstr = shstrtab.add(".dynstr");
    let name_verneed = shstrtab.add(".gnu.version_r");
    let name_shstrtab = shstrtab.add(".shstrtab");

    w.buf.resize(usize::from(ehsize), 0); // header written last, once offsets are known

    let mut sections = vec![SectionHeader::default()]; // index 0 is the null section
    if !names.is_empty() {
        let mut dynstr = StrTab::new();
        let file = dynstr.add("libc.so.6");
        let aux_names: Vec<u32> = names.iter().map(|n| dynstr.add(n)).collect();

        let dynstr_offset = w.buf.len();
        w.buf.extend_from_slice(&dynstr.bytes);
        sections.push(SectionHeader {
            name: name_dynstr,
            kind: SHT_STRTAB,
            flags: SHF_ALLOC,
            offset: dynstr_offset,
            size: dynstr.bytes.len(),
            align: 1,
            ..SectionHeader::default()
        });
        let dynstr_index = (sections.len() - 1) as u32;

        w.align(word_align);
        let verneed_offset = w.buf.len();
        // One Elf_Verneed (16 bytes) followed by its Elf_Vernaux entries (16 bytes each);
        // both layouts are the same for 32 and 64 bits.
        let count = u16::try_from(names.len()).expect("at most 65535 versions");
        w.u16(1); // vn_version
        w.u16(count); // vn_cnt
        w.u32(file); // vn_file
        w.u32(16); // vn_aux: the aux entries follow right after
        w.u32(0); // vn_next: this is the only file
        for (i, (name, &offset)) in names.iter().zip(&aux_names).enumerate() {
            w.u32(elf_hash(name.as_bytes())); // vna_hash
            w.u16(0); // vna_flags
            w.u16(2 + i as u16); // vna_other: version index; 0 and 1 are reserved
            w.u32(offset); // vna_name
            w.u32(if i + 1 == names.len() { 0 } else { 16 }); // vna_next
        }
        sections.push(SectionHeader {
            name: name_verneed,
            kind: SHT_GNU_VERNEED,
            flags: SHF_ALLOC,
            offset: verneed_offset,
            size: w.buf.len() - verneed_offset,
            link: dynstr_index,
            info: 1, // number of Elf_Verneed entries
            align: word_align,
            entsize: 0,
        });
    }

    let shstrtab_offset = w.buf.len();
    w.buf.extend_from_slice(&shstrtab.bytes);
    sections.push(SectionHeader {
        name: name_shstrtab,
        kind: SHT_STRTAB,
        offset: shstrtab_offset,
        size: shstrtab.bytes.len(),
        align: 1,
        ..SectionHeader::default()
    });
    let shstrndx = (sections.len() - 1) as u16;

    w.align(word_align);
    let shoff = w.buf.len();
    for s in &sections {
        w.u32(s.name);
        w.u32(s.kind);
        w.word(s.flags);
        w.word(0); // sh_addr
        w.word(s.offset as u64);
        w.word(s.size as u64);
        w.u32(s.link);
        w.u32(s.info);
        w.word(s.align as u64);
        w.word(s.entsize);
    }

    // The file header, now that the section table's place is known.
    let body = std::mem::replace(&mut w.buf, Vec::with_capacity(usize::from(ehsize)));
    w.buf.extend_from_slice(b"\x7fELF");
    w.buf.push(if spec.class64 { 2 } else { 1 }); // EI_CLASS
    w.buf.push(if spec.little_endian { 1 } else { 2 }); // EI_DATA
    w.buf.push(1); // EI_VERSION
    w.buf.push(0); // EI_OSABI: System V
    w.buf.resize(16, 0); // EI_ABIVERSION and padding
    w.u16(spec.e_type);
    w.u16(spec.machine);
    w.u32(1); // e_version
    w.word(0); // e_entry
    w.word(0); // e_phoff: no program headers
    w.word(shoff as u64);
    w.u32(0); // e_flags
    w.u16(ehsize);
    w.u16(0); // e_phentsize
    w.u16(0); // e_phnum
    w.u16(shentsize);
    w.u16(sections.len() as u16);
    w.u16(shstrndx);
    debug_assert_eq!(w.buf.len(), usize::from(ehsize));
    let mut out = w.buf;
    out.extend_from_slice(&body[usize::from(ehsize)..]);
    out
}

/// The SysV ELF hash that `vna_hash` holds.
pub fn elf_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}

fn version_names(versions: &[(u32, u32)]) -> Vec<String> {
    versions
        .iter()
        .map(|(major, minor)| format!("GLIBC_{major}.{minor}"))
        .collect()
}

#[derive(Default)]
struct SectionHeader {
    name: u32,
    kind: u32,
    flags: u64,
    offset: usize,
    size: usize,
    link: u32,
    info: u32,
    align: usize,
    entsize: u64,
}

/// A string table: starts with the empty string, `add` returns each string's offset.
struct StrTab {
    bytes: Vec<u8>,
}

impl StrTab {
    fn new() -> StrTab {
        StrTab { bytes: vec![0] }
    }

    fn add(&mut self, s: &str) -> u32 {
        let offset = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        offset
    }
}

struct Writer {
    buf: Vec<u8>,
    le: bool,
    class64: bool,
}

impl Writer {
    fn u16(&mut self, v: u16) {
        let b = if self.le {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        self.buf.extend_from_slice(&b);
    }

    fn u32(&mut self, v: u32) {
        let b = if self.le {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        self.buf.extend_from_slice(&b);
    }

    /// An address-sized field: 8 bytes in ELF64, 4 in ELF32.
    fn word(&mut self, v: u64) {
        if self.class64 {
            let b = if self.le {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            self.buf.extend_from_slice(&b);
        } else {
            self.u32(u32::try_from(v).expect("fits an ELF32 word"));
        }
    }

    fn align(&mut self, to: usize) {
        while self.buf.len() % to != 0 {
            self.buf.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elf_hash_matches_known_values() {
        // Values as linkers write them (readelf -V shows "Hash: ...").
        assert_eq!(elf_hash(b""), 0);
        assert_eq!(elf_hash(b"GLIBC_2.2.5"), 0x09691a75);
    }

    #[test]
    fn header_fields_follow_the_spec() {
        let bytes = build(&ElfSpec::x86_64_needing(&[(2, 17)]));
        assert_eq!(&bytes[..4], b"\x7fELF");
        assert_eq!(bytes[4], 2);
        assert_eq!(bytes[5], 1);
        assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), EM_X86_64);
    }
}
