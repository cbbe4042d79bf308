#include "device_bpf.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"

#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth::runtime::cgroups {

namespace {

// Registers as the program uses them, loaded once from the context
// (struct bpf_cgroup_dev_ctx: access_type = access << 16 | type, major, minor).
constexpr std::uint8_t ctx = BPF_REG_1, scratch = BPF_REG_1, type = BPF_REG_2, access = BPF_REG_3,
                       major = BPF_REG_4, minor = BPF_REG_5;

bpf_insn instruction(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
                     std::int32_t imm) {
    bpf_insn insn{};
    insn.code = code;
    insn.dst_reg = dst & 0xf;
    insn.src_reg = src & 0xf;
    insn.off = off;
    insn.imm = imm;
    return insn;
}

bpf_insn load_u32(std::uint8_t dst, std::int16_t offset) {
    return instruction(BPF_LDX | BPF_MEM | BPF_W, dst, ctx, offset, 0);
}
bpf_insn move(std::uint8_t dst, std::uint8_t src) {
    return instruction(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn alu32(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {
    return instruction(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn return_value(std::int32_t value) {
    return instruction(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, value);
}
bpf_insn exit_program() {
    return instruction(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}
// A 32-bit compare, so device numbers above 2^31 compare as the unsigned
// numbers they are; the offset is filled in once the block's length is known.
bpf_insn jump_if(std::uint8_t op, std::uint8_t reg, std::uint32_t value) {
    return instruction(BPF_JMP32 | op | BPF_K, reg, 0, 0, static_cast<std::int32_t>(value));
}

// One exception: skips to the next block unless the access matches it.
std::vector<bpf_insn> exception_block(const DeviceException& exception, bool allow_by_default) {
    std::vector<bpf_insn> block;
    block.push_back(
        jump_if(BPF_JNE, type, exception.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
    if (exception.major >= 0)
        block.push_back(jump_if(BPF_JNE, major, static_cast<std::uint32_t>(exception.major)));
    if (exception.minor >= 0)
        block.push_back(jump_if(BPF_JNE, minor, static_cast<std::uint32_t>(exception.minor)));
    block.push_back(move(scratch, access));
    if (allow_by_default) {
        // A denying exception matches when any asked-for access is in it.
        block.push_back(alu32(BPF_AND, scratch, static_cast<std::int32_t>(exception.access)));
        block.push_back(jump_if(BPF_JEQ, scratch, 0));
        block.push_back(return_value(0));
    } else {
        // An allowing exception matches when all asked-for access is in it.
        block.push_back(alu32(BPF_AND, scratch, static_cast<std::int32_t>(~exception.access & 7)));
        block.push_back(jump_if(BPF_JNE, scratch, 0));
        block.push_back(return_value(1));
    }
    block.push_back(exit_program());
    for (std::size_t i = 0; i < block.size(); ++i)
        if (BPF_CLASS(block[i].code) == BPF_JMP32)
            block[i].off = static_cast<std::int16_t>(block.size() - i - 1);
    return block;
}

long bpf(int command, bpf_attr& attr) {
    return ::syscall(SYS_bpf, command, &attr, sizeof attr);
}

UniqueFd load_program(const std::vector<bpf_insn>& program) {
    // The kernel reads the license only to gate GPL-only helpers; this calls none.
    static const char license[] = "GPL";
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<std::uint64_t>(program.data());
    attr.insn_cnt = static_cast<std::uint32_t>(program.size());
    attr.license = reinterpret_cast<std::uint64_t>(license);
    long fd = bpf(BPF_PROG_LOAD, attr);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    int err = errno;
    if (err != EINVAL && err != EACCES) throw_errno("loading the device eBPF program", err);
    // Load again with the verifier's log, which says what it refused.
    std::string log(std::size_t{64} * 1024, '\0');
    attr.log_level = 1;
    attr.log_buf = reinterpret_cast<std::uint64_t>(log.data());
    attr.log_size = static_cast<std::uint32_t>(log.size());
    bpf(BPF_PROG_LOAD, attr);
    log.resize(log.find('\0'));
    throw_errno("loading the device eBPF program (verifier: " + log + ")", err);
}

std::vector<std::uint32_t> attached_programs(int cgroup_fd) {
    std::vector<std::uint32_t> ids(64);
    bpf_attr attr{};
    attr.query.target_fd = static_cast<std::uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<std::uint64_t>(ids.data());
    attr.query.prog_cnt = static_cast<std::uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, attr) < 0) throw_errno("listing the cgroup's device programs");
    ids.resize(attr.query.prog_cnt);
    return ids;
}

} // namespace

std::vector<bpf_insn> device_program(const DevicePolicy& policy) {
    std::vector<bpf_insn> program = {
        load_u32(type, offsetof(bpf_cgroup_dev_ctx, access_type)),
        move(access, type),
        alu32(BPF_AND, type, 0xffff),
        alu32(BPF_RSH, access, 16),
        load_u32(major, offsetof(bpf_cgroup_dev_ctx, major)),
        load_u32(minor, offsetof(bpf_cgroup_dev_ctx, minor)),
    };
    for (const auto& exception : policy.exceptions) {
        auto block = exception_block(exception, policy.allow_by_default);
        program.insert(program.end(), block.begin(), block.end());
    }
    program.push_back(return_value(policy.allow_by_default ? 1 : 0));
    program.push_back(exit_program());
    return program;
}

void install_device_program(const std::string& directory, const DevicePolicy& policy) {
    UniqueFd cgroup = open_fd(directory, O_RDONLY | O_DIRECTORY);
    std::vector<std::uint32_t> previous = attached_programs(cgroup.get());
    UniqueFd program = load_program(device_program(policy));
    bpf_attr attach{};
    attach.target_fd = static_cast<std::uint32_t>(cgroup.get());
    attach.attach_bpf_fd = static_cast<std::uint32_t>(program.get());
    attach.attach_type = BPF_CGROUP_DEVICE;
    // Several programs per cgroup, so the new one is in before the old go.
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, attach) < 0)
        throw_errno("attaching the device eBPF program to " + directory);
    for (std::uint32_t id : previous) {
        bpf_attr by_id{};
        by_id.prog_id = id;
        long old = bpf(BPF_PROG_GET_FD_BY_ID, by_id);
        if (old < 0) continue; // gone already
        UniqueFd old_fd(static_cast<int>(old));
        bpf_attr detach{};
        detach.target_fd = static_cast<std::uint32_t>(cgroup.get());
        detach.attach_bpf_fd = static_cast<std::uint32_t>(old_fd.get());
        detach.attach_type = BPF_CGROUP_DEVICE;
        if (bpf(BPF_PROG_DETACH, detach) < 0 && errno != ENOENT)
            throw_errno("detaching the previous device eBPF program from " + directory);
    }
}

} // namespace berth::runtime::cgroups
