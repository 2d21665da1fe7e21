#ifndef EMTS_CSELINUX_SHIM_H
#define EMTS_CSELINUX_SHIM_H
/* libselinux's file-context lookup (the target's policy, read from its files) and the xattr calls that
   set the label: install-os labels the files it creates in an SELinux target, as restorecon would. */
#include <selinux/selinux.h>
#include <selinux/label.h>
#include <sys/xattr.h>
#endif
