import Foundation

/// The checks of the installed system's settings, shared by `installer.yaml` and the legacy `config-file`.
///
/// Each returns `nil` when the value is acceptable, else the message that says what is (the caller places it
/// on a file, line and key).
enum ConfigValidation {
    /// Names `useradd` would create but that belong to the system, or that the installer must not take over.
    static let reservedUserNames: Set<String> = [
        "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data",
        "backup", "list", "irc", "gnats", "nobody", "nogroup", "sshd", "messagebus", "polkitd", "_apt", "adm",
        "wheel", "sudo", "shadow", "tty", "disk", "kmem", "dialout", "operator", "halt", "shutdown", "ftp",
        "systemd-network", "systemd-resolve", "systemd-timesync", "systemd-journal", "systemd-coredump", "docker",
    ]

    /// RFC 1123 host name: dot-separated labels of letters, digits and '-', 1-63 characters each, not
    /// starting or ending with '-'; at most 253 characters in all.
    static func hostname(_ text: String) -> String? {
        guard !text.isEmpty else { return "give a host name such as edge-node-01" }
        guard text.utf8.count <= 253 else { return "a host name is at most 253 characters" }
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                return "\"\(text)\" is not a host name: each dot-separated part has 1 to 63 characters"
            }
            guard label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
                  label.first != "-", label.last != "-" else {
                return "\"\(text)\" is not a host name: use letters, digits and '-' (not first or last), "
                    + "parts separated by dots"
            }
        }
        return nil
    }

    /// A Linux user name as `useradd` accepts it by default: `[a-z_][a-z0-9_-]*[$]?`, at most 32 characters,
    /// and not a system account.
    static func userName(_ text: String) -> String? {
        guard !text.isEmpty, text.utf8.count <= 32 else { return "a user name has 1 to 32 characters" }
        guard isPortableName(text) else {
            return "\"\(text)\" is not a user name: start with a lower-case letter or '_', then lower-case "
                + "letters, digits, '_' or '-' (a final '$' is allowed)"
        }
        if reservedUserNames.contains(text) || text.hasPrefix("systemd-") {
            return "\"\(text)\" is a system account; choose another name"
        }
        return nil
    }

    /// `[a-z_][a-z0-9_-]*[$]?`
    static func isPortableName(_ text: String) -> Bool {
        var characters = Array(text.unicodeScalars)
        if characters.last == "$" { characters.removeLast() }
        guard let first = characters.first, first == "_" || ("a" ... "z").contains(first) else { return false }
        return characters.allSatisfy { ("a" ... "z").contains($0) || ("0" ... "9").contains($0) || $0 == "_" || $0 == "-" }
    }

    /// A crypt(3) SHA-512 hash: `$6$[rounds=N$]salt$hash` (salt 1-16 characters, hash 86, of `./0-9A-Za-z`).
    static func passwordHash(_ text: String) -> String? {
        let message = "must be a SHA-512 crypt hash ($6$salt$hash, 106 or more characters): make one with "
            + "`emts-iso hash-password`"
        guard text.hasPrefix("$6$") else { return message }
        var parts = text.dropFirst(3).split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3, let rounds = parts.first, rounds.hasPrefix("rounds=") {
            guard let count = Int(rounds.dropFirst(7)), rounds.dropFirst(7).allSatisfy(\.isASCII),
                  (1000 ... 999_999_999).contains(count) else {
                return "the hash's rounds= must be a number between 1000 and 999999999"
            }
            parts.removeFirst()
        }
        guard parts.count == 2 else { return message }
        let salt = parts[0], hash = parts[1]
        guard (1 ... 16).contains(salt.count), salt.allSatisfy(isCryptCharacter),
              hash.count == 86, hash.allSatisfy(isCryptCharacter) else { return message }
        return nil
    }

    private static func isCryptCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "." || character == "/")
    }

    /// An IPv4 or IPv6 address; its version, or `nil`.
    static func ipVersion(_ text: String) -> Int? {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return 4 }
        if inet_pton(AF_INET6, text, &v6) == 1 { return 6 }
        return nil
    }

    /// An address with its prefix length: `192.168.1.10/24`, `fd00::10/64`.
    static func addressWithPrefix(_ text: String) -> String? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            return "\"\(text)\" needs its prefix length, such as 192.168.1.10/24 or fd00::10/64"
        }
        guard let version = ipVersion(String(parts[0])) else {
            return "\"\(parts[0])\" is not an IPv4 or IPv6 address"
        }
        let maximum = version == 4 ? 32 : 128
        guard parts[1].allSatisfy(\.isASCII), let prefix = Int(parts[1]), (1 ... maximum).contains(prefix) else {
            return "the prefix length of \"\(text)\" must be a number from 1 to \(maximum)"
        }
        return nil
    }

    /// A single address, no prefix.
    static func address(_ text: String) -> String? {
        ipVersion(text) == nil ? "\"\(text)\" is not an IPv4 or IPv6 address" : nil
    }

    /// The prefix length of a dotted IPv4 netmask (`255.255.255.0` is 24), or of a prefix given as a number.
    static func prefixLength(ofMask text: String) -> Result<Int, MessageError> {
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let prefix = Int(text), (1 ... 128).contains(prefix) {
            return .success(prefix)
        }
        var mask = in_addr()
        guard inet_pton(AF_INET, text, &mask) == 1 else {
            return .failure(MessageError("\"\(text)\" is not a netmask such as 255.255.255.0"))
        }
        let bits = UInt32(bigEndian: mask.s_addr)
        let prefix = bits.leadingZeroBitCount == 0 ? (~bits).leadingZeroBitCount : 0
        guard prefix > 0, bits == UInt32.max << (32 - prefix) || prefix == 32 else {
            return .failure(MessageError("\"\(text)\" is not a contiguous netmask (its one bits must come first, "
                                         + "as in 255.255.255.0)"))
        }
        return .success(prefix)
    }

    /// A MAC address written `aa:bb:cc:dd:ee:ff`.
    static func macAddress(_ text: String) -> String? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) else {
            return "\"\(text)\" is not a MAC address written aa:bb:cc:dd:ee:ff"
        }
        return nil
    }

    /// A network interface name (or a systemd-networkd `Name=` pattern such as `en*`).
    static func interfaceName(_ text: String) -> String? {
        guard (1 ... 15).contains(text.utf8.count),
              text.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" && $0 != ":" && $0 != "\0" }),
              text != ".", text != ".." else {
            return "\"\(text)\" is not an interface name (1 to 15 characters, no '/', ':' or spaces), such as enp1s0"
        }
        return nil
    }

    /// A proxy URL: `http://` or `https://`, a host, an optional port.
    static func proxyURL(_ text: String) -> String? {
        let message = "\"\(redactedURL(text))\" is not a proxy URL such as http://proxy.example.com:3128"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else { return message }
        guard let host = components.host, !host.isEmpty else { return message }
        if let port = components.port, !(1 ... 65535).contains(port) { return message }
        guard components.query == nil, components.fragment == nil, components.path.isEmpty || components.path == "/" else {
            return message
        }
        return nil
    }

    /// A `no_proxy` entry: a host, a domain (`.example.com`), an address or a network, or `*`.
    static func noProxyEntry(_ text: String) -> String? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-_:*/[]".contains($0)) }) else {
            return "\"\(text)\" is not a no_proxy entry (a host, .domain, address or network, no spaces)"
        }
        return nil
    }

    /// An NTP server: a host name or an address.
    static func ntpServer(_ text: String) -> String? {
        if ipVersion(text) != nil { return nil }
        return hostname(text).map { _ in "\"\(text)\" is not an NTP server name or address" }
    }

    /// A systemd unit name (`docker`, `docker.service`, `getty@tty1.service`).
    static func unitName(_ text: String) -> String? {
        guard !text.isEmpty, text.utf8.count <= 255, text.first != "-",
              text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ":_.\\@-".contains($0)) }) else {
            return "\"\(text)\" is not a systemd unit name such as docker.service"
        }
        return nil
    }

    /// An absolute path in the installed system, without `.` or `..` components.
    /// A disk named like `target` (a `/dev/` path or a kernel name), but not `auto`.
    static func deviceSpec(_ text: String) -> String? {
        do {
            guard case .device = try TargetSelector(parsing: text) else {
                return "\"auto\" is for target only; name a disk (a /dev/ path or a kernel name such as sdb)"
            }
            return nil
        } catch {
            return error.description
        }
    }

    static func absolutePath(_ text: String) -> String? {
        guard text.hasPrefix("/"), text.count > 1, !text.hasSuffix("/"), !text.contains("\0") else {
            return "\"\(text)\" must be an absolute file path such as /etc/motd"
        }
        let components = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            return "\"\(text)\" must not contain \"..\", \".\" or \"//\""
        }
        return nil
    }

    /// An octal file mode written as text: `0644`, `644`, `0755`, `4755`.
    static func permissions(_ text: String) -> String? {
        guard (3 ... 4).contains(text.count), text.allSatisfy({ ("0" ... "7").contains($0) }) else {
            return "\"\(text)\" is not an octal file mode such as \"0644\" (quote it)"
        }
        return nil
    }

    /// `user` or `user:group` (names or numeric ids).
    static func owner(_ text: String) -> String? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1 ... 2).contains(parts.count), parts.allSatisfy({ part in
            !part.isEmpty && part.utf8.count <= 32 && (isPortableName(part) || part.allSatisfy { $0.isASCII && $0.isNumber })
        }) else {
            return "\"\(text)\" is not an owner such as \"root:root\" or \"edge:edge\""
        }
        return nil
    }

    /// A URL with its credentials hidden: `http://***@proxy:3128`.
    static func redactedURL(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return text }
        return String(text[..<schemeEnd.upperBound]) + "***" + String(rest[at...])
    }
}

/// A message as an error, for the validators' results.
struct MessageError: Error, Sendable, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}
