import Glibc

/// libarchive converts path names between UTF-8 and the process's multibyte locale. A program that never
/// calls `setlocale` runs in the "C" locale, where a name such as `Főtanúsítvány.crt` (Debian's
/// ca-certificates ships one) cannot be converted: the writers then see no path name at all, and libarchive
/// 3.6's newc writer crashes on it (`strlen(NULL)`). Every reader and writer makes sure the character type is
/// UTF-8 first: `C.UTF-8` (built into glibc since 2.35) when the current one is not UTF-8 already. Only
/// LC_CTYPE changes; messages, numbers and collation stay as they were.
enum ArchiveLocale {
    /// Evaluated once, on first use, before any archive handle exists.
    static let ensured: Bool = {
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        if codeset.uppercased().filter({ $0 != "-" }) == "UTF8" { return true }
        return setlocale(LC_CTYPE, "C.UTF-8") != nil
    }()
}
