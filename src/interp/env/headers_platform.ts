/**
 * The environment's headers for a platform driver run from a kernel tree (stm32_rproc.c), and the kernel
 * types the tree's own remoteproc headers embed (list heads, work items, an idr, a cdev). Written by this
 * project from the interfaces' documentation, never copied from the kernel: a structure has the members the
 * environment serves or that a driver owns; what the hand model keeps elsewhere is opaque. With a tree, its
 * include/linux/remoteproc.h replaces the environment's own struct rproc (headers.ts), and these headers
 * give what that file includes.
 */
import type { SourceFile } from "../lower.ts";

/* What include/linux/remoteproc.h and remoteproc_internal.h embed or name. */
const KERNEL_TYPES = String.raw`
typedef u32 phandle;
#define BITS_PER_LONG 64
#define BITS_TO_LONGS(nr) (((nr) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define DECLARE_BITMAP(name, bits) unsigned long name[BITS_TO_LONGS(bits)]
typedef struct { long counter; } atomic_long_t;
struct kref { atomic_t refcount; };
struct completion { unsigned int done; };
/* The id allocator of the core: kept by the hand model (rproc->notifyids), opaque here. */
struct idr { void *__interp_idr_root; unsigned int __interp_idr_base; unsigned int __interp_idr_next; };
struct cdev { void *__interp_cdev_owner; unsigned long __interp_cdev_dev; };
struct dentry;
struct iommu_domain;
struct virtqueue;
struct class;
static inline int atomic_read(const atomic_t *v) { return READ_ONCE(v->counter); }
static inline int strncmp(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
		if (!a[i])
			return 0;
	}
	return 0;
}
/* include/linux/overflow.h: saturating size arithmetic (SIZE_MAX on overflow). */
#ifndef SIZE_MAX
#define SIZE_MAX (~(size_t)0)
#endif
static inline size_t size_add(size_t a, size_t b)
{
	size_t s = a + b;

	return s < a ? SIZE_MAX : s;
}
static inline size_t size_mul(size_t a, size_t b)
{
	if (a != 0 && b > SIZE_MAX / a)
		return SIZE_MAX;
	return a * b;
}
typedef enum irqreturn { IRQ_NONE = 0, IRQ_HANDLED = 1, IRQ_WAKE_THREAD = 2 } irqreturn_t;
`;

/* include/linux/workqueue.h: a work item is the C's; queueing it is the hand model's workqueue. */
const WORKQUEUE = String.raw`
struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);
struct work_struct {
	atomic_long_t data;
	struct list_head entry;
	work_func_t func;
};
#define INIT_WORK(_work, _func) do { (_work)->func = (_func); } while (0)
struct workqueue_struct;
struct workqueue_struct *__interp_alloc_workqueue(const char *name);
#define create_workqueue(name) __interp_alloc_workqueue(name)
#define create_singlethread_workqueue(name) __interp_alloc_workqueue(name)
#define alloc_workqueue(fmt, flags, max_active, ...) __interp_alloc_workqueue(fmt)
#define alloc_ordered_workqueue(fmt, flags, ...) __interp_alloc_workqueue(fmt)
void destroy_workqueue(struct workqueue_struct *wq);
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
bool schedule_work(struct work_struct *work);
`;

/* include/linux/of.h, of_reserved_mem.h: the device tree model's nodes and properties. */
const OF = String.raw`
struct property;
/* A node of the device tree model: its name is served, the rest is the model's. */
struct device_node {
	const char *name;
	const char *full_name;
	phandle phandle;
	struct device_node *parent;
};
#define MAX_PHANDLE_ARGS 16
struct of_phandle_args {
	struct device_node *np;
	int args_count;
	u32 args[MAX_PHANDLE_ARGS];
};
/* The iterator the environment walks: index is its position in the property (its own member). */
struct of_phandle_iterator {
	const char *cells_name;
	int cell_count;
	const struct device_node *parent;
	const char *__interp_prop;
	int __interp_index;
	u32 cur_count;
	phandle phandle;
	struct device_node *node;
};
struct of_device_id {
	char name[32];
	char type[32];
	char compatible[128];
	const void *data;
};
bool of_property_read_bool(const struct device_node *np, const char *propname);
bool of_property_present(const struct device_node *np, const char *propname);
int of_property_read_u32_index(const struct device_node *np, const char *propname, u32 index, u32 *out_value);
int of_property_read_variable_u32_array(const struct device_node *np, const char *propname, u32 *out_values,
					size_t sz_min, size_t sz_max);
static inline int of_property_read_u32_array(const struct device_node *np, const char *propname,
					     u32 *out_values, size_t sz)
{
	int ret = of_property_read_variable_u32_array(np, propname, out_values, sz, 0);

	if (ret >= 0)
		return 0;
	return ret;
}
static inline int of_property_read_u32(const struct device_node *np, const char *propname, u32 *out_value)
{
	return of_property_read_u32_array(np, propname, out_value, 1);
}
int of_property_count_elems_of_size(const struct device_node *np, const char *propname, int elem_size);
int of_property_read_string(const struct device_node *np, const char *propname, const char **out_string);
int of_property_match_string(const struct device_node *np, const char *propname, const char *string);
int of_device_is_compatible(const struct device_node *device, const char *compat);
struct device_node *of_parse_phandle(const struct device_node *np, const char *phandle_name, int index);
int of_phandle_iterator_init(struct of_phandle_iterator *it, const struct device_node *np,
			     const char *list_name, const char *cells_name, int cell_count);
int of_phandle_iterator_next(struct of_phandle_iterator *it);
struct device_node *of_node_get(struct device_node *node);
void of_node_put(struct device_node *node);
struct reserved_mem {
	const char *name;
	unsigned long fdt_node;
	const void *ops;
	phys_addr_t base;
	phys_addr_t size;
	void *priv;
};
struct reserved_mem *of_reserved_mem_lookup(struct device_node *np);
`;

/* include/linux/platform_device.h, device.h helpers, pm.h, pm_wakeup.h, pm_wakeirq.h, dma-mapping.h. */
const PLATFORM = String.raw`
struct dev_pm_ops {
	int (*prepare)(struct device *dev);
	void (*complete)(struct device *dev);
	int (*suspend)(struct device *dev);
	int (*resume)(struct device *dev);
	int (*freeze)(struct device *dev);
	int (*thaw)(struct device *dev);
	int (*poweroff)(struct device *dev);
	int (*restore)(struct device *dev);
};
struct platform_device_id {
	char name[20];
	unsigned long driver_data;
};
struct platform_driver {
	int (*probe)(struct platform_device *);
	void (*remove)(struct platform_device *);
	void (*remove_new)(struct platform_device *);
	void (*shutdown)(struct platform_device *);
	struct device_driver driver;
	const struct platform_device_id *id_table;
	bool prevent_deferred_probe;
	bool driver_managed_dma;
};
int platform_driver_register(struct platform_driver *drv);
#define __platform_driver_register(drv, owner) platform_driver_register(drv)
void platform_driver_unregister(struct platform_driver *drv);
int platform_get_irq(struct platform_device *pdev, unsigned int num);
int platform_get_irq_optional(struct platform_device *pdev, unsigned int num);
static inline void *dev_get_drvdata(const struct device *dev) { return dev->driver_data; }
static inline void dev_set_drvdata(struct device *dev, void *data) { dev->driver_data = data; }
static inline void *platform_get_drvdata(const struct platform_device *pdev) { return dev_get_drvdata(&pdev->dev); }
static inline void platform_set_drvdata(struct platform_device *pdev, void *data) { dev_set_drvdata(&pdev->dev, data); }
const char *dev_name(const struct device *dev);
#define pm_ptr(_ptr) (_ptr)
#define pm_sleep_ptr(_ptr) (_ptr)
#define DEFINE_SIMPLE_DEV_PM_OPS(name, suspend_fn, resume_fn) \
	const struct dev_pm_ops name = { .suspend = suspend_fn, .resume = resume_fn, \
		.freeze = suspend_fn, .thaw = resume_fn, .poweroff = suspend_fn, .restore = resume_fn }
#define SIMPLE_DEV_PM_OPS(name, suspend_fn, resume_fn) DEFINE_SIMPLE_DEV_PM_OPS(name, suspend_fn, resume_fn)
int device_init_wakeup(struct device *dev, bool enable);
bool device_may_wakeup(struct device *dev);
int dev_pm_set_wake_irq(struct device *dev, int irq);
void dev_pm_clear_wake_irq(struct device *dev);
#define DMA_BIT_MASK(n) (((n) == 64) ? ~0ULL : ((1ULL << (n)) - 1))
int dma_coerce_mask_and_coherent(struct device *dev, u64 mask);
int dma_set_mask_and_coherent(struct device *dev, u64 mask);
void *devm_ioremap_wc(struct device *dev, resource_size_t offset, resource_size_t size);
void *devm_ioremap(struct device *dev, resource_size_t offset, resource_size_t size);
void *devm_kcalloc(struct device *dev, size_t n, size_t size, gfp_t flags);
`;

/* include/linux/interrupt.h: an interrupt line of the emulated platform. */
const INTERRUPT = String.raw`
typedef irqreturn_t (*irq_handler_t)(int irq, void *dev_id);
#define IRQF_SHARED 0x00000080
#define IRQF_ONESHOT 0x00002000
int devm_request_irq(struct device *dev, unsigned int irq, irq_handler_t handler, unsigned long irqflags,
		     const char *devname, void *dev_id);
void devm_free_irq(struct device *dev, unsigned int irq, void *dev_id);
int enable_irq_wake(unsigned int irq);
int disable_irq_wake(unsigned int irq);
`;

/* include/linux/regmap.h, mfd/syscon.h: the platform's system-configuration registers. */
const REGMAP = String.raw`
struct regmap;
int regmap_read(struct regmap *map, unsigned int reg, unsigned int *val);
int regmap_write(struct regmap *map, unsigned int reg, unsigned int val);
int regmap_update_bits(struct regmap *map, unsigned int reg, unsigned int mask, unsigned int val);
struct regmap *syscon_regmap_lookup_by_phandle(struct device_node *np, const char *property);
struct regmap *syscon_node_to_regmap(struct device_node *np);
`;

/* include/linux/reset.h: the platform's reset lines. */
const RESET = String.raw`
struct reset_control;
struct reset_control *devm_reset_control_get_optional(struct device *dev, const char *id);
struct reset_control *devm_reset_control_get_optional_exclusive(struct device *dev, const char *id);
struct reset_control *devm_reset_control_get(struct device *dev, const char *id);
struct reset_control *devm_reset_control_get_exclusive(struct device *dev, const char *id);
struct reset_control *devm_reset_control_get_by_index(struct device *dev, int index);
struct reset_control *devm_reset_control_get_exclusive_by_index(struct device *dev, int index);
int reset_control_assert(struct reset_control *rstc);
int reset_control_deassert(struct reset_control *rstc);
int reset_control_reset(struct reset_control *rstc);
`;

/* include/linux/mailbox_client.h: the client is the driver's; a channel is the environment's. */
const MAILBOX = String.raw`
struct mbox_chan;
struct mbox_client {
	struct device *dev;
	bool tx_block;
	unsigned long tx_tout;
	bool knows_txdone;
	void (*rx_callback)(struct mbox_client *cl, void *mssg);
	void (*tx_prepare)(struct mbox_client *cl, void *mssg);
	void (*tx_done)(struct mbox_client *cl, void *mssg, int r);
};
struct mbox_chan *mbox_request_channel_byname(struct mbox_client *cl, const char *name);
struct mbox_chan *mbox_request_channel(struct mbox_client *cl, int index);
int mbox_send_message(struct mbox_chan *chan, void *mssg);
void mbox_free_channel(struct mbox_chan *chan);
`;

/* include/linux/arm-smccc.h: declared only; the emulated platform has no secure-monitor RCC service. */
const SMCCC = String.raw`
struct arm_smccc_res {
	unsigned long a0;
	unsigned long a1;
	unsigned long a2;
	unsigned long a3;
};
void arm_smccc_smc(unsigned long a0, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4,
		   unsigned long a5, unsigned long a6, unsigned long a7, struct arm_smccc_res *res);
`;

const file = (name: string, text: string): SourceFile => ({ path: `<env>/include/linux/${name}`, text });

/** The platform headers, loaded after headers.ts's common ones and before the tree's remoteproc headers. */
export const PLATFORM_HEADERS: readonly SourceFile[] = [
  file("kernel_types.h", KERNEL_TYPES),
  file("workqueue.h", WORKQUEUE),
  file("of.h", OF),
  file("platform_device.h", PLATFORM),
  file("interrupt.h", INTERRUPT),
  file("regmap.h", REGMAP),
  file("reset.h", RESET),
  file("mailbox_client.h", MAILBOX),
  file("arm-smccc.h", SMCCC),
];
