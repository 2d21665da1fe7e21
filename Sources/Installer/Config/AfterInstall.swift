/// What install-os does once the OS is written and the boot entry set.
public enum AfterInstall: String, ConfigChoice {
    /// Reboot into the installed system (`systemctl --no-block reboot`).
    case reboot
    /// Power off (`systemctl --no-block poweroff`), for machines shipped after installing.
    case poweroff
    /// Stay in the µOS; its console login comes up.
    case none
}
