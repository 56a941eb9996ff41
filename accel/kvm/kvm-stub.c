/*
 * The KVM accelerator on hosts without Linux KVM headers: it only explains
 * that KVM is not there.
 */
#include "accel/accel.h"
#include "core/error.h"

static bool kvm_stub_probe(GError **errp)
{
    error_setg(errp, "KVM support is not built into this Kestrel (no "
               "<linux/kvm.h>); use -accel tcg");
    return false;
}

const AccelOps accel_kvm_ops = {
    .name = "kvm",
    .probe = kvm_stub_probe,
};
