/**
 * The environment's headers for the tree's remoteproc_core.c run from C beside the drivers: the kernel APIs
 * the core calls that are not in the drivers' headers (the device core's refcounting, the firmware loader's
 * asynchronous request, ids, wakeup sources, DMA, RCU lists, notifiers) and the exported functions of the
 * core's files that are not modelled (remoteproc_cdev.c, remoteproc_debugfs.c, remoteproc_sysfs.c,
 * remoteproc_coredump.c), which the environment provides (src/interp/env/remoteproc_files.ts). Written by
 * this project from the interfaces' documentation, never copied from the kernel.
 */
import type { SourceFile } from "../lower.ts";

/* The annotations and initcalls the core's file uses. */
const COMPILER = String.raw`
#define __printf(a, b)
#define __must_check
#define subsys_initcall(fn) static void *const __interp_subsys_initcall = fn
`;

/* include/linux/device.h (the core's class device), device/class.h, pm_wakeup.h, devres. */
const DEVICE_CORE = String.raw`
struct device_type {
	const char *name;
	void (*release)(struct device *dev);
};
struct class {
	const char *name;
};
void device_initialize(struct device *dev);
int dev_set_name(struct device *dev, const char *fmt, ...);
int device_add(struct device *dev);
void device_del(struct device *dev);
struct device *get_device(struct device *dev);
void put_device(struct device *dev);
void pm_stay_awake(struct device *dev);
void pm_relax(struct device *dev);
typedef void (*dr_release_t)(struct device *dev, void *res);
void *devres_alloc(dr_release_t release, size_t size, gfp_t gfp);
void devres_add(struct device *dev, void *res);
void devres_free(void *res);
int __interp_devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data);
#define devm_add_action_or_reset(dev, action, data) __interp_devm_add_action_or_reset((dev), (action), (data))
#define PLATFORM_DEVID_NONE (-1)
#define PLATFORM_DEVID_AUTO (-2)
/* remoteproc_sysfs.c's class (the environment stands for that file). */
const struct class rproc_class = { .name = "remoteproc" };
`;

/* include/linux/idr.h: the core's index allocator (rproc_dev_index) and its notify ids (rproc->notifyids). */
const IDR = String.raw`
struct ida { unsigned long __interp_ida; };
#define DEFINE_IDA(name) struct ida name = { 0 }
int ida_alloc(struct ida *ida, gfp_t gfp);
void ida_free(struct ida *ida, unsigned int id);
void ida_destroy(struct ida *ida);
void idr_init(struct idr *idr);
int idr_alloc(struct idr *idr, void *ptr, int start, int end, gfp_t gfp);
void *idr_remove(struct idr *idr, unsigned long id);
void *idr_find(const struct idr *idr, unsigned long id);
void idr_destroy(struct idr *idr);
`;

/* include/linux/string.h, slab.h: the duplicating helpers the core names its rproc with. */
const STRINGS = String.raw`
const char *kstrdup_const(const char *s, gfp_t gfp);
void kfree_const(const void *x);
char *kstrdup(const char *s, gfp_t gfp);
char *kstrndup(const char *s, size_t max, gfp_t gfp);
char *kasprintf(gfp_t gfp, const char *fmt, ...);
int snprintf(char *buf, size_t size, const char *fmt, ...);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list args);
int sprintf(char *buf, const char *fmt, ...);
int scnprintf(char *buf, size_t size, const char *fmt, ...);
ssize_t strscpy(char *dst, const char *src, size_t count);
static inline size_t strcspn(const char *s, const char *reject)
{
	size_t n, i;

	for (n = 0; s[n]; n++)
		for (i = 0; reject[i]; i++)
			if (s[n] == reject[i])
				return n;
	return n;
}
`;

/* include/linux/firmware.h: the asynchronous request of the core's auto boot. */
const FIRMWARE_ASYNC = String.raw`
#define FW_ACTION_NOUEVENT 0
#define FW_ACTION_UEVENT 1
int request_firmware_nowait(struct module *module, bool uevent, const char *name, struct device *device,
			    gfp_t gfp, void *context, void (*cont)(const struct firmware *fw, void *context));
`;

/*
 * include/linux/rsc_table.h's walk over a resource table (the tree's remoteproc.h includes it, the tree does
 * not have it): each entry's header is checked against the table's size, then `fn` gets its type, body,
 * offset of the body and the bytes available after the header; a non-zero return stops the walk.
 */
const RSC_TABLE_WALK = String.raw`
static inline int rsc_table_for_each_entry(struct resource_table *table, size_t table_sz, struct device *dev,
					   int (*fn)(u32 type, void *rsc, int offset, int avail, void *data),
					   void *data)
{
	const int hdr_sz = sizeof(struct fw_rsc_hdr);
	u8 *base = (u8 *)table;
	int err = 0;
	u32 n = 0;

	while (!err && n < table->num) {
		int at = table->offset[n++];
		int left = (int)table_sz - at - hdr_sz;
		struct fw_rsc_hdr *entry = (struct fw_rsc_hdr *)(base + at);

		if (left < 0) {
			/* the entry's header runs past the end of the table */
			dev_err(dev, "rsc table is truncated\n");
			return -EINVAL;
		}
		err = fn(entry->type, base + at + hdr_sz, at + hdr_sz, left, data);
	}
	return err;
}
`;

/* include/linux/dma-mapping.h, mm.h, io.h: carveouts the core allocates from its parent's DMA memory. */
const DMA = String.raw`
/* include/uapi/linux/virtio_ring.h: the bytes of a split ring of num entries (descriptors, then the
 * available ring, then the used ring at the next multiple of align). */
static inline unsigned int vring_size(unsigned int num, unsigned long align)
{
	return ((16 * num + 2 * (3 + num) + align - 1) & ~(align - 1)) + 2 * 3 + 8 * num;
}
#define PAGE_SIZE 4096UL
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
void *dma_alloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp);
void dma_free_coherent(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_handle);
`;

/* include/linux/bitops.h: the bits of rproc->features (rproc_has_feature, rproc_set_feature). */
const BITOPS = `
static inline bool test_bit(long nr, const volatile unsigned long *addr)
{
	return (addr[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1UL;
}
static inline void set_bit(long nr, volatile unsigned long *addr)
{
	addr[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}
static inline void clear_bit(long nr, volatile unsigned long *addr)
{
	addr[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG));
}
#define __set_bit(nr, addr) set_bit(nr, addr)
#define __clear_bit(nr, addr) clear_bit(nr, addr)
`;

/* include/linux/rculist.h, rcupdate.h, notifier.h, delay.h, atomic.h. */
const SYNC = String.raw`
#define list_add_rcu(new, head) list_add(new, head)
#define list_del_rcu(entry) list_del(entry)
#define list_for_each_entry_rcu(pos, head, member, ...) list_for_each_entry(pos, head, member)
/* include/linux/list.h: back from the entry before pos to the head (an unwind of what succeeded). */
#define list_for_each_entry_continue_reverse(pos, head, member) \
	for (pos = list_prev_entry(pos, member); !list_entry_is_head(pos, head, member); \
	     pos = list_prev_entry(pos, member))
void synchronize_rcu(void);
void rcu_read_lock(void);
void rcu_read_unlock(void);
struct notifier_block;
typedef int (*notifier_fn_t)(struct notifier_block *nb, unsigned long action, void *data);
struct notifier_block {
	notifier_fn_t notifier_call;
	struct notifier_block *next;
	int priority;
};
struct atomic_notifier_head { struct notifier_block *head; };
#define NOTIFY_DONE 0x0000
#define NOTIFY_OK 0x0001
/* kernel/panic.c's chain (the environment stands for that file). */
struct atomic_notifier_head panic_notifier_list;
int atomic_notifier_chain_register(struct atomic_notifier_head *nh, struct notifier_block *nb);
int atomic_notifier_chain_unregister(struct atomic_notifier_head *nh, struct notifier_block *nb);
bool cancel_work_sync(struct work_struct *work);
void mdelay(unsigned long ms);
static inline void atomic_set(atomic_t *v, int i) { WRITE_ONCE(v->counter, i); }
static inline int atomic_inc_return(atomic_t *v) { return ++v->counter; }
static inline int atomic_dec_return(atomic_t *v) { return --v->counter; }
static inline void atomic_inc(atomic_t *v) { v->counter++; }
static inline void atomic_dec(atomic_t *v) { v->counter--; }
static inline bool atomic_dec_and_test(atomic_t *v) { return --v->counter == 0; }
`;

const file = (name: string, text: string): SourceFile => ({ path: `<env>/include/linux/${name}`, text });

/** The headers of the core's APIs, loaded after the drivers' environment headers (headers.ts). */
export const CORE_HEADERS: readonly SourceFile[] = [
  file("compiler_attributes.h", COMPILER),
  file("device/core.h", DEVICE_CORE),
  file("idr.h", IDR),
  file("string.h", STRINGS),
  file("firmware_async.h", FIRMWARE_ASYNC),
  file("rsc_table_walk.h", RSC_TABLE_WALK),
  file("dma-mapping.h", DMA),
  file("rculist.h", SYNC),
  file("bitops.h", BITOPS),
];
