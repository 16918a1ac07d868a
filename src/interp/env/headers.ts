/**
 * The environment's own C headers: the types, constants and prototypes of the kernel APIs the hand model
 * provides (src/interp/env/kernel.ts), written here by this project from the interfaces' documentation and
 * never copied from the kernel. They are loaded after the interpreter's prelude and before the posted files,
 * in place of the <linux/...> headers the posted files include. A structure lists only members the
 * environment can serve or that the C owns (a member the hand model does not keep is declared only where a
 * driver embeds the structure, and reading it is an unknown naming it); a type no header defines stays
 * incomplete, and using it is an unknown.
 *
 * Numeric values of the user-visible ABI (TEE parameter attributes, login methods, the rproc states, ELF
 * and resource-table layouts) are the interfaces' published values.
 */
import type { SourceFile } from "../lower.ts";
import { CORE_HEADERS } from "./headers_core.ts";
import { PLATFORM_HEADERS } from "./headers_platform.ts";
import { VIRTIO_HEADERS } from "./headers_virtio.ts";

const BUG = `
/* WARN_ON(cond) returns cond; a true condition is the hand model's warn event. */
int __interp_warn(int cond, const char *what);
#define WARN_ON(cond) __interp_warn(!!(cond), #cond)
#define WARN_ON_ONCE(cond) __interp_warn(!!(cond), #cond)
#define WARN(cond, fmt, ...) __interp_warn(!!(cond), #cond)
#define BUG_ON(cond) __interp_warn(!!(cond), #cond)
`;

const TYPES = String.raw`
/* The interpreter's memory is little-endian, as the emulated Cortex-A7 host is. */
#define __LITTLE_ENDIAN 1234
#define __LITTLE_ENDIAN_BITFIELD
typedef struct { int counter; } atomic_t;
typedef struct { __u8 b[16]; } uuid_t;
#define UUID_INIT(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7) \
	((uuid_t){ { ((a) >> 24) & 0xff, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a) & 0xff, \
		     ((b) >> 8) & 0xff, (b) & 0xff, ((c) >> 8) & 0xff, (c) & 0xff, \
		     (d0), (d1), (d2), (d3), (d4), (d5), (d6), (d7) } })
struct module;
#define THIS_MODULE ((struct module *)0)
bool try_module_get(struct module *module);
void module_put(struct module *module);
`;

const SLAB = `
struct device;
void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void *kmalloc_array(size_t n, size_t size, gfp_t flags);
void *kmemdup(const void *src, size_t len, gfp_t flags);
void kfree(const void *p);
void *devm_kzalloc(struct device *dev, size_t size, gfp_t flags);
void *devm_kmalloc(struct device *dev, size_t size, gfp_t flags);
void devm_kfree(struct device *dev, const void *p);
`;

const LOCKS = `
/* A lock is the hand model's lock object found by the address of this storage. */
typedef struct spinlock { unsigned int __interp_lock; } spinlock_t;
typedef struct raw_spinlock { unsigned int __interp_lock; } raw_spinlock_t;
#define __SPIN_LOCK_UNLOCKED(name) { 0 }
#define DEFINE_SPINLOCK(name) spinlock_t name = __SPIN_LOCK_UNLOCKED(name)
void spin_lock_init(spinlock_t *lock);
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);
void spin_lock_irq(spinlock_t *lock);
void spin_unlock_irq(spinlock_t *lock);
void spin_lock_bh(spinlock_t *lock);
void spin_unlock_bh(spinlock_t *lock);
unsigned long __interp_spin_lock_irqsave(spinlock_t *lock);
#define spin_lock_irqsave(lock, flags) ((flags) = __interp_spin_lock_irqsave(lock))
void spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);

struct mutex { unsigned long __interp_lock; };
#define __MUTEX_INITIALIZER(name) { 0 }
#define DEFINE_MUTEX(name) struct mutex name = __MUTEX_INITIALIZER(name)
void mutex_init(struct mutex *lock);
void mutex_destroy(struct mutex *lock);
void mutex_lock(struct mutex *lock);
int mutex_lock_interruptible(struct mutex *lock);
int mutex_trylock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
`;

/** device.h; `extra`: members of struct device only the loaded files use (the core's type and class). */
const deviceHeader = (extra: string): string => `
struct device_node;
struct fwnode_handle;
struct bus_type { const char *name; };
struct device_driver {
	const char *name;
	const struct bus_type *bus;
	struct module *owner;
	const struct of_device_id *of_match_table;
	const struct dev_pm_ops *pm;
	int (*probe)(struct device *dev);
	int (*remove)(struct device *dev);
	void (*shutdown)(struct device *dev);
};
/* Members the driver core keeps: the hand model serves the ones it models, the others are unknowns. */
struct device {
	struct device *parent;
	const char *init_name;
	const struct bus_type *bus;
	struct device_driver *driver;
	void *driver_data;
	struct device_node *of_node;
	struct fwnode_handle *fwnode;
${extra}};
struct device_link;
#define DL_FLAG_STATELESS (1U << 0)
#define DL_FLAG_AUTOREMOVE_CONSUMER (1U << 2)
#define DL_FLAG_PM_RUNTIME (1U << 3)
#define DL_FLAG_RPM_ACTIVE (1U << 4)
#define DL_FLAG_AUTOREMOVE_SUPPLIER (1U << 5)
struct device_link *device_link_add(struct device *consumer, struct device *supplier, u32 flags);
void device_link_del(struct device_link *link);
int driver_register(struct device_driver *drv);
void driver_unregister(struct device_driver *drv);
void dev_err(const struct device *dev, const char *fmt, ...);
void dev_warn(const struct device *dev, const char *fmt, ...);
void dev_notice(const struct device *dev, const char *fmt, ...);
void dev_info(const struct device *dev, const char *fmt, ...);
void dev_dbg(const struct device *dev, const char *fmt, ...);
#define dev_err_once dev_err
#define dev_warn_once dev_warn
#define dev_info_once dev_info
#define dev_err_ratelimited dev_err
void pr_err(const char *fmt, ...);
void pr_warn(const char *fmt, ...);
void pr_info(const char *fmt, ...);
void pr_debug(const char *fmt, ...);
extern const struct bus_type platform_bus_type;
struct platform_device {
	const char *name;
	int id;
	struct device dev;
};
#define to_platform_device(x) container_of((x), struct platform_device, dev)
`;
const DEVICE = deviceHeader("");

const IO = `
/* Mappings are views onto the emulated platform's memory, as Linux (the non-secure world) sees it. */
void *ioremap(phys_addr_t offset, size_t size);
void *ioremap_wc(phys_addr_t offset, size_t size);
void iounmap(volatile void *addr);
#define MEMREMAP_WB (1 << 0)
#define MEMREMAP_WT (1 << 1)
#define MEMREMAP_WC (1 << 2)
void *memremap(resource_size_t offset, size_t size, unsigned long flags);
void memunmap(void *addr);
void memcpy_toio(volatile void *dst, const void *src, size_t count);
void memcpy_fromio(void *dst, const volatile void *src, size_t count);
void memset_io(volatile void *dst, int c, size_t count);
`;

/* The TEE client interface (uapi tee.h values, tee_drv.h client API). */
const TEE = String.raw`
#define TEE_IOCTL_UUID_LEN 16
#define TEE_IMPL_ID_OPTEE 1
#define TEE_IMPL_ID_AMDTEE 2
#define TEE_IOCTL_LOGIN_PUBLIC 0
#define TEE_IOCTL_LOGIN_USER 1
#define TEE_IOCTL_LOGIN_GROUP 2
#define TEE_IOCTL_LOGIN_APPLICATION 4
#define TEE_IOCTL_LOGIN_REE_KERNEL 0x80000000
#define TEE_IOCTL_PARAM_ATTR_TYPE_NONE 0
#define TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT 1
#define TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_OUTPUT 2
#define TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INOUT 3
#define TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT 5
#define TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT 6
#define TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INOUT 7
#define TEE_IOCTL_PARAM_ATTR_TYPE_MASK 0xff
#define TEEC_SUCCESS 0x00000000
#define TEEC_ERROR_GENERIC 0xFFFF0000
#define TEEC_ERROR_BAD_PARAMETERS 0xFFFF0006
#define TEEC_ERROR_ITEM_NOT_FOUND 0xFFFF0008
#define TEEC_ERROR_NOT_SUPPORTED 0xFFFF000A
#define TEEC_ERROR_OUT_OF_MEMORY 0xFFFF000C
#define TEEC_ERROR_BUSY 0xFFFF000D
#define TEEC_ERROR_COMMUNICATION 0xFFFF000E
#define TEEC_ERROR_SECURITY 0xFFFF000F
#define TEEC_ORIGIN_API 0x00000001
#define TEEC_ORIGIN_COMMS 0x00000002
#define TEEC_ORIGIN_TEE 0x00000003
#define TEEC_ORIGIN_TRUSTED_APP 0x00000004

struct tee_ioctl_version_data {
	__u32 impl_id;
	__u32 impl_caps;
	__u32 gen_caps;
};
struct tee_ioctl_param {
	__u64 attr;
	__u64 a;
	__u64 b;
	__u64 c;
};
struct tee_ioctl_open_session_arg {
	__u8 uuid[TEE_IOCTL_UUID_LEN];
	__u8 clnt_uuid[TEE_IOCTL_UUID_LEN];
	__u32 clnt_login;
	__u32 cancel_id;
	__u32 session;
	__u32 ret;
	__u32 ret_origin;
	__u32 num_params;
	struct tee_ioctl_param params[];
};
struct tee_ioctl_invoke_arg {
	__u32 func;
	__u32 session;
	__u32 cancel_id;
	__u32 ret;
	__u32 ret_origin;
	__u32 num_params;
	struct tee_ioctl_param params[];
};

/* Kept by the TEE subsystem (the hand model): opaque to a client driver. */
struct tee_context;
struct tee_shm;
struct tee_param_memref {
	size_t shm_offs;
	size_t size;
	struct tee_shm *shm;
};
struct tee_param_value {
	u64 a;
	u64 b;
	u64 c;
};
struct tee_param {
	u64 attr;
	union {
		struct tee_param_memref memref;
		struct tee_param_value value;
	} u;
};

struct tee_context *tee_client_open_context(struct tee_context *start,
					    int (*match)(struct tee_ioctl_version_data *, const void *),
					    const void *data, struct tee_ioctl_version_data *vers);
void tee_client_close_context(struct tee_context *ctx);
void tee_client_get_version(struct tee_context *ctx, struct tee_ioctl_version_data *vers);
int tee_client_open_session(struct tee_context *ctx, struct tee_ioctl_open_session_arg *arg,
			    struct tee_param *param);
int tee_client_close_session(struct tee_context *ctx, u32 session);
int tee_client_invoke_func(struct tee_context *ctx, struct tee_ioctl_invoke_arg *arg,
			   struct tee_param *param);
struct tee_shm *tee_shm_register_kernel_buf(struct tee_context *ctx, void *addr, size_t length);
struct tee_shm *tee_shm_alloc_kernel_buf(struct tee_context *ctx, size_t size);
void tee_shm_free(struct tee_shm *shm);
void *tee_shm_get_va(struct tee_shm *shm, size_t offs);

struct tee_client_device_id {
	uuid_t uuid;
};
struct tee_client_device {
	struct tee_client_device_id id;
	struct device dev;
};
#define to_tee_client_device(d) container_of((d), struct tee_client_device, dev)
struct tee_client_driver {
	const struct tee_client_device_id *id_table;
	struct device_driver driver;
};
#define to_tee_client_driver(d) container_of((d), struct tee_client_driver, driver)
extern const struct bus_type tee_bus_type;
int tee_client_driver_register(struct tee_client_driver *drv);
void tee_client_driver_unregister(struct tee_client_driver *drv);
#define module_tee_client_driver(__drv) \
	module_driver(__drv, tee_client_driver_register, tee_client_driver_unregister)
`;

const FIRMWARE = `
struct firmware {
	size_t size;
	const u8 *data;
};
int request_firmware(const struct firmware **fw, const char *name, struct device *device);
void release_firmware(const struct firmware *fw);
`;

/* Resource tables (rsc_table.h: the tree's remoteproc.h includes it, the tree does not have it). */
const RSC_TABLE = `
struct resource_table {
	u32 ver;
	u32 num;
	u32 reserved[2];
	u32 offset[];
} __packed;
struct fw_rsc_hdr {
	u32 type;
	u8 data[];
} __packed;
enum fw_resource_type {
	RSC_CARVEOUT = 0,
	RSC_DEVMEM = 1,
	RSC_TRACE = 2,
	RSC_VDEV = 3,
	RSC_LAST = 4,
	RSC_VENDOR_START = 128,
	RSC_VENDOR_END = 512,
};
#define FW_RSC_ADDR_ANY (-1)
#define FW_RSC_NOTIFY_ID_ANY (-1)
struct fw_rsc_carveout {
	u32 da;
	u32 pa;
	u32 len;
	u32 flags;
	u32 reserved;
	u8 name[32];
} __packed;
struct fw_rsc_trace {
	u32 da;
	u32 len;
	u32 reserved;
	u8 name[32];
} __packed;
struct fw_rsc_vdev_vring {
	u32 da;
	u32 align;
	u32 num;
	u32 notifyid;
	u32 pa;
} __packed;
struct fw_rsc_vdev {
	u32 id;
	u32 notifyid;
	u32 dfeatures;
	u32 gfeatures;
	u32 config_len;
	u8 status;
	u8 num_of_vrings;
	u8 reserved[2];
	struct fw_rsc_vdev_vring vring[];
} __packed;
`;

/* The remoteproc structures the hand model's core keeps, when no kernel tree gives include/linux/remoteproc.h. */
/** enum rproc_state and struct rproc_ops of remoteproc.h (the threaded environment declares them too). */
export const RPROC_STATE_AND_OPS = `
enum rproc_state {
	RPROC_OFFLINE = 0,
	RPROC_SUSPENDED = 1,
	RPROC_RUNNING = 2,
	RPROC_CRASHED = 3,
	RPROC_DELETED = 4,
	RPROC_ATTACHED = 5,
	RPROC_DETACHED = 6,
	RPROC_LAST = 7,
};

struct rproc;
struct rproc_ops {
	int (*prepare)(struct rproc *rproc);
	int (*unprepare)(struct rproc *rproc);
	int (*start)(struct rproc *rproc);
	int (*stop)(struct rproc *rproc);
	int (*attach)(struct rproc *rproc);
	int (*detach)(struct rproc *rproc);
	void (*kick)(struct rproc *rproc, int vqid);
	void *(*da_to_va)(struct rproc *rproc, u64 da, size_t len, bool *is_iomem);
	int (*parse_fw)(struct rproc *rproc, const struct firmware *fw);
	int (*handle_rsc)(struct rproc *rproc, u32 rsc_type, void *rsc, int offset, int avail);
	struct resource_table *(*find_loaded_rsc_table)(struct rproc *rproc, const struct firmware *fw);
	struct resource_table *(*get_loaded_rsc_table)(struct rproc *rproc, size_t *size);
	int (*load)(struct rproc *rproc, const struct firmware *fw);
	int (*sanity_check)(struct rproc *rproc, const struct firmware *fw);
	u64 (*get_boot_addr)(struct rproc *rproc, const struct firmware *fw);
	unsigned long (*panic)(struct rproc *rproc);
	void (*coredump)(struct rproc *rproc);
	void (*release_fw)(struct rproc *rproc);
};
`;

const REMOTEPROC = `${RPROC_STATE_AND_OPS}
/* The members of struct rproc the hand model's core keeps and serves; any other is not declared. */
struct rproc {
	const char *name;
	const char *firmware;
	void *priv;
	enum rproc_state state;
	struct resource_table *table_ptr;
	struct resource_table *clean_table;
	struct resource_table *cached_table;
	size_t table_sz;
	bool has_iommu;
	bool auto_boot;
	bool recovery_disabled;
	unsigned int crash_cnt;
	u64 bootaddr;
};

void *rproc_da_to_va(struct rproc *rproc, u64 da, size_t len, bool *is_iomem);
void *rproc_pa_to_va(struct rproc *rproc, phys_addr_t pa, size_t len, bool *is_iomem);
`;

/* ELF layouts (the firmware images the loaders parse). */
const ELF = String.raw`
typedef u32 Elf32_Addr;
typedef u16 Elf32_Half;
typedef u32 Elf32_Off;
typedef s32 Elf32_Sword;
typedef u32 Elf32_Word;
typedef u64 Elf64_Addr;
typedef u16 Elf64_Half;
typedef u64 Elf64_Off;
typedef s32 Elf64_Sword;
typedef u32 Elf64_Word;
typedef u64 Elf64_Xword;
#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFCLASSNONE 0
#define EM_NONE 0
#define ELFDATANONE 0
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define EI_VERSION 6
#define EV_CURRENT 1
#define ET_EXEC 2
#define PT_NULL 0
#define SHT_NULL 0
#define SHT_PROGBITS 1
#define SHT_STRTAB 3
#define ELFMAG "\177ELF"
#define SELFMAG 4
#define PT_LOAD 1
#define SHT_NOBITS 8
struct elf32_hdr {
	unsigned char e_ident[EI_NIDENT];
	Elf32_Half e_type;
	Elf32_Half e_machine;
	Elf32_Word e_version;
	Elf32_Addr e_entry;
	Elf32_Off e_phoff;
	Elf32_Off e_shoff;
	Elf32_Word e_flags;
	Elf32_Half e_ehsize;
	Elf32_Half e_phentsize;
	Elf32_Half e_phnum;
	Elf32_Half e_shentsize;
	Elf32_Half e_shnum;
	Elf32_Half e_shstrndx;
};
struct elf32_phdr {
	Elf32_Word p_type;
	Elf32_Off p_offset;
	Elf32_Addr p_vaddr;
	Elf32_Addr p_paddr;
	Elf32_Word p_filesz;
	Elf32_Word p_memsz;
	Elf32_Word p_flags;
	Elf32_Word p_align;
};
struct elf32_shdr {
	Elf32_Word sh_name;
	Elf32_Word sh_type;
	Elf32_Word sh_flags;
	Elf32_Addr sh_addr;
	Elf32_Off sh_offset;
	Elf32_Word sh_size;
	Elf32_Word sh_link;
	Elf32_Word sh_info;
	Elf32_Word sh_addralign;
	Elf32_Word sh_entsize;
};
struct elf64_hdr {
	unsigned char e_ident[EI_NIDENT];
	Elf64_Half e_type;
	Elf64_Half e_machine;
	Elf64_Word e_version;
	Elf64_Addr e_entry;
	Elf64_Off e_phoff;
	Elf64_Off e_shoff;
	Elf64_Word e_flags;
	Elf64_Half e_ehsize;
	Elf64_Half e_phentsize;
	Elf64_Half e_phnum;
	Elf64_Half e_shentsize;
	Elf64_Half e_shnum;
	Elf64_Half e_shstrndx;
};
struct elf64_phdr {
	Elf64_Word p_type;
	Elf64_Word p_flags;
	Elf64_Off p_offset;
	Elf64_Addr p_vaddr;
	Elf64_Addr p_paddr;
	Elf64_Xword p_filesz;
	Elf64_Xword p_memsz;
	Elf64_Xword p_align;
};
struct elf64_shdr {
	Elf64_Word sh_name;
	Elf64_Word sh_type;
	Elf64_Xword sh_flags;
	Elf64_Addr sh_addr;
	Elf64_Off sh_offset;
	Elf64_Xword sh_size;
	Elf64_Word sh_link;
	Elf64_Word sh_info;
	Elf64_Xword sh_addralign;
	Elf64_Xword sh_entsize;
};
`;

const file = (name: string, text: string): SourceFile => ({ path: `<env>/include/linux/${name}`, text });

/** The members the environment's struct rproc declares (each served by the twin of kernel.ts). */
export const ENV_RPROC_MEMBERS: readonly string[] = (
  /struct rproc \{\n([\s\S]*?)\n\};/.exec(REMOTEPROC)?.[1] ?? ""
)
  .split("\n")
  .map((l) => /(\w+);\s*$/.exec(l)?.[1])
  .filter((n): n is string => n !== undefined);

/**
 * The environment's headers with members a series adds to struct rproc (their C declarations, as posted in
 * include/linux/remoteproc.h) declared last in the environment's struct rproc: a driver the series creates
 * whole uses them with no tree (their storage is the C's: remoteproc_tee.ts SERIES_RPROC_MEMBERS).
 */
export function withRprocMembers(headers: readonly SourceFile[], members: readonly string[]): SourceFile[] {
  if (members.length === 0) return [...headers];
  return headers.map((f) =>
    f.path.endsWith("/remoteproc.h")
      ? {
          ...f,
          text: f.text.replace(
            /(struct rproc \{\n[\s\S]*?)\n\};/,
            (_, body: string) => `${body}\n${members.map((m) => `\t${m}`).join("\n")}\n};`,
          ),
        }
      : f,
  );
}

/** The environment's headers, in the order they are loaded. */
export const ENV_HEADERS: readonly SourceFile[] = [
  file("bug.h", BUG),
  file("types.h", TYPES),
  file("slab.h", SLAB),
  file("spinlock.h", LOCKS),
  file("device.h", DEVICE),
  file("io.h", IO),
  file("tee_drv.h", TEE),
  file("firmware.h", FIRMWARE),
  file("rsc_table.h", RSC_TABLE),
  file("remoteproc.h", REMOTEPROC),
  file("elf.h", ELF),
];

/**
 * The environment's headers when a kernel tree gives the remoteproc headers (include/linux/remoteproc.h and
 * the drivers' own): the environment's struct rproc gives way to the tree's, and the platform headers
 * (headers_platform.ts) give what a platform driver such as stm32_rproc.c includes.
 */
export const ENV_HEADERS_FOR_TREE: readonly SourceFile[] = [
  ...ENV_HEADERS.filter((f) => !f.path.endsWith("/remoteproc.h")),
  ...PLATFORM_HEADERS,
];

/**
 * The members of struct device the core and its virtio transport set or read: the device type (its release
 * frees the rproc) and class, the device's own release (a virtio device's), the platform data of the
 * rproc-virtio device and the DMA ranges it copies from its parent.
 */
const CORE_DEVICE_MEMBERS = `\tconst struct device_type *type;
\tconst struct class *class;
\tvoid (*release)(struct device *dev);
\tvoid *platform_data;
\tconst struct bus_dma_region *dma_range_map;
`;

/**
 * The environment's headers when the tree's remoteproc_core.c runs from C with the drivers: the tree's, with
 * the members of struct device the core sets (its device type, whose release frees the rproc, and class) and
 * the core's own kernel APIs (headers_core.ts).
 */
export const ENV_HEADERS_FOR_CORE: readonly SourceFile[] = [
  ...ENV_HEADERS_FOR_TREE.map((f) =>
    f.path.endsWith("/device.h")
      ? file(
          "device.h",
          `struct device_type;\nstruct class;\nstruct bus_dma_region;\n${deviceHeader(CORE_DEVICE_MEMBERS)}`,
        )
      : f,
  ),
  ...CORE_HEADERS,
  ...VIRTIO_HEADERS,
];
