import Foundation
import Glibc

extension SystemProfile {
    /// Checks every value before anything is written. Messages name the field, never a secret value.
    /// - Throws: `ProvisionError.invalidProfile`.
    public func validate() throws(ProvisionError) {
        if let hostname {
            guard Validation.isHostname(hostname) else {
                throw .invalidProfile(field: "hostname", reason: "\"\(hostname)\" is not a valid host name "
                    + "(letters, digits and hyphens, labels of 1 to 63 characters separated by dots)")
            }
        }
        if let user { try user.validate() }
        if let proxy { try proxy.validate() }
        try network.validate()
        for (index, server) in ntpServers.enumerated() where !Validation.isToken(server) {
            throw .invalidProfile(field: "ntp servers[\(index)]", reason: "\"\(server)\" is not a host name or address")
        }
        if let hugepages, hugepages < 0 {
            throw .invalidProfile(field: "hugepages", reason: "\(hugepages) is negative")
        }
        try cloudInit.validate()
        if let swapUUID, !Validation.isUUID(swapUUID) {
            throw .invalidProfile(field: "swap UUID", reason: "\"\(swapUUID)\" is not a UUID")
        }
    }
}

extension UserAccount {
    func validate() throws(ProvisionError) {
        guard Validation.isUserName(name) else {
            throw .invalidProfile(field: "user name", reason: "\"\(name)\" is not a valid user name "
                + "(lower-case letters, digits, '_' and '-', starting with a letter or '_', at most 32 characters)")
        }
        if let passwordHash {
            guard !passwordHash.isEmpty,
                  passwordHash.first == "$" || passwordHash.first == "!" || passwordHash.first == "*",
                  !passwordHash.contains(where: { $0 == ":" || $0.isWhitespace || $0.isNewline }) else {
                throw .invalidProfile(field: "user password hash",
                                      reason: "not a crypt(3) hash (like $6$salt$hash; the value is not shown)")
            }
        }
        for (index, key) in authorizedKeys.enumerated() {
            let trimmed = key.trimmingWhitespace
            guard !trimmed.isEmpty, !trimmed.contains(where: \.isNewline), !trimmed.utf8.contains(0) else {
                throw .invalidProfile(field: "user authorized keys[\(index)]",
                                      reason: "empty or more than one line (the key is not shown)")
            }
        }
    }
}

extension ProxySettings {
    func validate() throws(ProvisionError) {
        for (field, value) in [("http proxy", http), ("https proxy", https)] {
            guard let value else { continue }
            guard !value.isEmpty, Validation.isToken(value), !value.contains(where: { "\"'\\`$".contains($0) }) else {
                throw .invalidProfile(field: field, reason: "\"\(Redaction.url(value))\" is not a usable proxy URL "
                    + "(no blanks, quotes, backslashes or '$')")
            }
        }
        for (index, entry) in noProxy.enumerated() {
            guard Validation.isToken(entry), !entry.contains(where: { ",\"'\\`$".contains($0) }) else {
                throw .invalidProfile(field: "no proxy[\(index)]", reason: "\"\(entry)\" is not a host, domain or address")
            }
        }
    }
}

extension InterfaceMatch {
    func validate(_ field: String) throws(ProvisionError) {
        switch self {
        case .mac(let mac):
            guard Validation.isMAC(mac) else {
                throw .invalidProfile(field: field, reason: "\"\(mac)\" is not a MAC address (like 52:54:00:12:34:56)")
            }
        case .name(let name):
            guard Validation.isToken(name), name.count <= 64 else {
                throw .invalidProfile(field: field, reason: "\"\(name)\" is not an interface name or pattern")
            }
        }
    }

    /// The `[Match]` line.
    var matchLine: String {
        switch self {
        case .mac(let mac): "MACAddress=" + mac.lowercased()
        case .name(let name): "Name=" + name
        }
    }
}

extension NetworkProfile {
    func validate() throws(ProvisionError) {
        switch self {
        case .unchanged: break
        case .dhcp(let match): try match?.validate("network match")
        case .staticAddress(let settings):
            try settings.match.validate("network match")
            guard Validation.isAddressWithPrefix(settings.address) else {
                throw .invalidProfile(field: "network address",
                                      reason: "\"\(settings.address)\" is not an address/prefix (like 192.168.1.10/24)")
            }
            if let gateway = settings.gateway, Validation.addressFamily(gateway) == nil {
                throw .invalidProfile(field: "network gateway", reason: "\"\(gateway)\" is not an IP address")
            }
            for (index, server) in settings.dns.enumerated() where Validation.addressFamily(server) == nil {
                throw .invalidProfile(field: "network dns[\(index)]", reason: "\"\(server)\" is not an IP address")
            }
        }
    }
}

extension CloudInitProfile {
    func validate() throws(ProvisionError) {
        for (field, units) in [("services enable", servicesEnable), ("services disable", servicesDisable)] {
            for (index, unit) in units.enumerated() where !Validation.isUnitName(unit) {
                throw .invalidProfile(field: "\(field)[\(index)]", reason: "\"\(unit)\" is not a systemd unit name")
            }
        }
        for (index, command) in runcmd.enumerated() where command.trimmingWhitespace.isEmpty {
            throw .invalidProfile(field: "runcmd[\(index)]", reason: "empty command")
        }
        for (index, file) in writeFiles.enumerated() {
            let field = "write_files[\(index)]"
            guard file.path.hasPrefix("/"), !file.path.hasSuffix("/"), !file.path.utf8.contains(0),
                  !file.path.split(separator: "/").contains("..") else {
                throw .invalidProfile(field: field + " path",
                                      reason: "\"\(file.path)\" is not an absolute file path without '..'")
            }
            if let permissions = file.permissions, Validation.mode(permissions) == nil {
                throw .invalidProfile(field: field + " permissions",
                                      reason: "\"\(permissions)\" is not an octal mode (like 0644)")
            }
            if let owner = file.owner, Validation.ownerParts(owner) == nil {
                throw .invalidProfile(field: field + " owner", reason: "\"\(owner)\" is not user, user:group or :group")
            }
        }
        if let instanceID, !Validation.isToken(instanceID) {
            throw .invalidProfile(field: "instance id", reason: "\"\(instanceID)\" is empty or has blanks")
        }
        var names = Set<String>()
        for (index, script) in helperScripts.enumerated() {
            guard Validation.isToken(script.name), !script.name.contains("/"), script.name != ".", script.name != ".." else {
                throw .invalidProfile(field: "helper scripts[\(index)]", reason: "\"\(script.name)\" is not a file name")
            }
            guard names.insert(script.name).inserted else {
                throw .invalidProfile(field: "helper scripts[\(index)]", reason: "\(script.name) given twice")
            }
        }
    }
}

/// Checks of single values.
enum Validation {
    /// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 1-63 each, 253 in all.
    static func isHostname(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard (1 ... 63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
            return label.unicodeScalars.allSatisfy { isLetterOrDigit($0) || $0 == "-" }
        }
    }

    /// `[a-z_][a-z0-9_-]*`, at most 32 characters (Debian's default NAME_REGEX, without `$`).
    static func isUserName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 32 else { return false }
        guard isLower(first) || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { isLower($0) || isDigit($0) || $0 == "_" || $0 == "-" }
    }

    static func isLower(_ scalar: Unicode.Scalar) -> Bool { scalar >= "a" && scalar <= "z" }
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar >= "0" && scalar <= "9" }
    static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        isLower(scalar) || (scalar >= "A" && scalar <= "Z") || isDigit(scalar)
    }

    /// Non-empty, printable ASCII, no blanks.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
    }

    /// `8-4-4-4-12` hex digits, as blkid and mkswap print a UUID.
    static func isUUID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    static func isMAC(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 6 && parts.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isHexDigit) }
    }

    /// A systemd unit name (`docker.service`, `getty@tty1.service`, `k3s`).
    static func isUnitName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, name.first != "-" else { return false }
        return name.unicodeScalars.allSatisfy { isLetterOrDigit($0) || ":-_.@\\".unicodeScalars.contains($0) }
    }

    /// `AF_INET` or `AF_INET6` for an IP address, `nil` otherwise.
    static func addressFamily(_ text: String) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &buffer) == 1 { return AF_INET }
        if inet_pton(AF_INET6, text, &buffer) == 1 { return AF_INET6 }
        return nil
    }

    /// `192.168.1.10/24`, `fd00::5/64`.
    static func isAddressWithPrefix(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let family = addressFamily(String(parts[0])), let prefix = Int(parts[1]) else { return false }
        return prefix >= 0 && prefix <= (family == AF_INET ? 32 : 128)
    }

    /// An octal mode: `0644`, `644`, `0o644`, `"0755"`; at most `07777`.
    static func mode(_ text: String) -> UInt32? {
        var digits = Substring(text.trimmingWhitespace)
        if digits.hasPrefix("0o") || digits.hasPrefix("0O") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 5, let value = UInt32(digits, radix: 8), value <= 0o7777 else { return nil }
        return value
    }

    /// `user`, `user:group` or `:group`; `nil` when malformed.
    static func ownerParts(_ owner: String) -> (user: String?, group: String?)? {
        let parts = owner.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1 ... 2).contains(parts.count), parts.allSatisfy({ $0.isEmpty || isToken($0) }) else { return nil }
        let user = parts[0].isEmpty ? nil : parts[0]
        let group = parts.count == 2 && !parts[1].isEmpty ? parts[1] : nil
        guard user != nil || group != nil else { return nil }
        return (user, group)
    }
}

/// Hides secrets in what goes to the log.
public enum Redaction {
    /// The URL with its user information replaced (`http://user:pass@proxy:3128` ->
    /// `http://***@proxy:3128`).
    public static func url(_ text: String) -> String {
        let schemeEnd = text.range(of: "://")
        let authorityStart = schemeEnd?.upperBound ?? text.startIndex
        let rest = text[authorityStart...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? text.endIndex
        guard let at = text[authorityStart ..< authorityEnd].lastIndex(of: "@") else { return text }
        return String(text[..<authorityStart]) + "***" + String(text[at...])
    }
}
