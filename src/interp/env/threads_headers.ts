/**
 * The C headers of the threaded kernel environment (threads.ts), in which the posted code runs on several
 * kernel threads that interleave: the generic headers of the hand model's environment (bug.h, types.h,
 * slab.h), locks that carry lockdep's class name and a magic word (so a lock used before its init is seen),
 * workqueues, the asynchronous firmware loader, the platform bus and a skeleton of the remoteproc core.
 *
 * The core skeleton is C written by this project from the documented behaviour of remoteproc_core.c
 * (rproc_alloc, rproc_add, rproc_boot, rproc_shutdown, rproc_del and the auto-boot firmware callback),
 * not copied from the kernel: it runs in the interpreter so that its scheduling points (rproc->lock, the
 * firmware request) interleave with the posted code, and its calls through rproc->ops go through
 * __interp_check_op so a call through a NULL op is a finding naming the op. Like the hand model's headers
 * these are not posted code: trace steps and findings in them name their function, not a posted line.
 */
import type { SourceFile } from "../lower.ts";
import { ENV_HEADERS, RPROC_STATE_AND_OPS } from "./headers.ts";

/** The value of a lock's magic word once initialised (mutex_init, spin_lock_init, DEFINE_*). */
export const LOCK_MAGIC = 0x10c4_a61cn;

const LOCKS = `
/* A lock: its magic word (LOCK_MAGIC once initialised) and lockdep's class name (the init expression). */
typedef struct spinlock { unsigned long __interp_magic; const char *__interp_name; } spinlock_t;
typedef struct spinlock raw_spinlock_t;
#define __SPIN_LOCK_UNLOCKED(name) { ${LOCK_MAGIC}UL, #name }
#define DEFINE_SPINLOCK(name) spinlock_t name = __SPIN_LOCK_UNLOCKED(name)
void __interp_spin_lock_init(spinlock_t *lock, const char *name);
#define spin_lock_init(lock) __interp_spin_lock_init((lock), #lock)
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);
#define spin_lock_irq spin_lock
#define spin_unlock_irq spin_unlock
#define spin_lock_bh spin_lock
#define spin_unlock_bh spin_unlock
unsigned long __interp_spin_lock_irqsave(spinlock_t *lock);
#define spin_lock_irqsave(lock, flags) ((flags) = __interp_spin_lock_irqsave(lock))
void spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);

struct mutex { unsigned long __interp_magic; const char *__interp_name; };
#define __MUTEX_INITIALIZER(name) { ${LOCK_MAGIC}UL, #name }
#define DEFINE_MUTEX(name) struct mutex name = __MUTEX_INITIALIZER(name)
void __interp_mutex_init(struct mutex *lock, const char *name);
#define mutex_init(lock) __interp_mutex_init((lock), #lock)
void mutex_destroy(struct mutex *lock);
void mutex_lock(struct mutex *lock);
int mutex_lock_interruptible(struct mutex *lock);
int mutex_trylock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
`;

const SCHED = `
void msleep(unsigned int msecs);
void usleep_range(unsigned long min, unsigned long max);
void might_sleep(void);
void cond_resched(void);

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);
struct work_struct { work_func_t func; unsigned long __interp_pending; };
struct workqueue_struct;
#define INIT_WORK(w, f) do { (w)->func = (f); (w)->__interp_pending = 0; } while (0)
bool schedule_work(struct work_struct *work);
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
bool cancel_work_sync(struct work_struct *work);
bool flush_work(struct work_struct *work);
/* The body of a worker thread running one work item. */
static void process_one_work(struct work_struct *work)
{
	work->__interp_pending = 0;
	work->func(work);
}
`;

const DEVICE = `
struct device_node;
struct device {
	struct device *parent;
	struct device_node *of_node;
	void *driver_data;
};
static inline void *dev_get_drvdata(const struct device *dev) { return dev->driver_data; }
static inline void dev_set_drvdata(struct device *dev, void *data) { dev->driver_data = data; }
void dev_err(const struct device *dev, const char *fmt, ...);
void dev_warn(const struct device *dev, const char *fmt, ...);
void dev_info(const struct device *dev, const char *fmt, ...);
void dev_dbg(const struct device *dev, const char *fmt, ...);
void pr_err(const char *fmt, ...);
void pr_info(const char *fmt, ...);
bool of_property_read_bool(const struct device_node *np, const char *propname);
bool device_property_read_bool(const struct device *dev, const char *propname);
int __interp_devm_add_action(struct device *dev, void (*action)(void *), void *data);
#define devm_add_action(dev, action, data) __interp_devm_add_action((dev), (action), (data))
#define devm_add_action_or_reset(dev, action, data) __interp_devm_add_action((dev), (action), (data))
void __interp_devres_release_all(struct device *dev);

struct platform_device {
	const char *name;
	int id;
	struct device dev;
};
#define to_platform_device(x) container_of((x), struct platform_device, dev)
static inline void *platform_get_drvdata(const struct platform_device *pdev) { return pdev->dev.driver_data; }
static inline void platform_set_drvdata(struct platform_device *pdev, void *data) { pdev->dev.driver_data = data; }
struct of_device_id { char compatible[128]; const void *data; };
struct device_driver { const char *name; const struct of_device_id *of_match_table; };
struct platform_driver {
	int (*probe)(struct platform_device *pdev);
	void (*remove)(struct platform_device *pdev);
	struct device_driver driver;
};
int platform_driver_register(struct platform_driver *drv);
void platform_driver_unregister(struct platform_driver *drv);
/* The driver core's unbind (a write to the driver's unbind file): remove, then the device's devres. */
static void unbind_store(struct platform_driver *drv, struct platform_device *pdev)
{
	if (drv->remove)
		drv->remove(pdev);
	__interp_devres_release_all(&pdev->dev);
}
`;

const FIRMWARE = `
struct firmware {
	size_t size;
	const u8 *data;
};
#define FW_ACTION_NOUEVENT 0
#define FW_ACTION_UEVENT 1
int request_firmware(const struct firmware **fw, const char *name, struct device *device);
int request_firmware_nowait(struct module *module, bool uevent, const char *name, struct device *device,
			    gfp_t gfp, void *context, void (*cont)(const struct firmware *fw, void *context));
void release_firmware(const struct firmware *fw);
/* The firmware loader's work for request_firmware_nowait: load, then hand the result to the callback. */
static void request_firmware_work_func(const char *name, struct device *device, void *context,
					    void (*cont)(const struct firmware *fw, void *context))
{
	const struct firmware *fw = NULL;

	if (request_firmware(&fw, name, device))
		fw = NULL;
	cont(fw, context);
}
`;

const REMOTEPROC = `
struct resource_table;
${RPROC_STATE_AND_OPS}
struct rproc {
	struct list_head node;
	const char *name;
	const char *firmware;
	void *priv;
	struct rproc_ops *ops;
	struct device dev;
	struct mutex lock;
	enum rproc_state state;
	int power;
	unsigned int crash_cnt;
	bool recovery_disabled;
	bool auto_boot;
};

/* A call through rproc->ops: a NULL member is the finding (the call that follows oopses). */
void __interp_check_op(const void *fn, const char *member);
/* The rproc's sysfs files (state): appear at rproc_add, go away at rproc_del. */
void __interp_rproc_sysfs_add(struct rproc *rproc);
void __interp_rproc_sysfs_del(struct rproc *rproc);
bool __interp_rproc_sysfs_present(struct rproc *rproc);

static DEFINE_MUTEX(rproc_list_mutex);
static LIST_HEAD(rproc_list);

struct rproc *rproc_alloc(struct device *dev, const char *name, const struct rproc_ops *ops,
			  const char *firmware, int len)
{
	struct rproc *rproc;

	if (!dev || !name || !ops)
		return NULL;
	rproc = kzalloc(sizeof(*rproc), GFP_KERNEL);
	if (!rproc)
		return NULL;
	rproc->ops = kmemdup(ops, sizeof(*ops), GFP_KERNEL);
	if (len)
		rproc->priv = kzalloc(len, GFP_KERNEL);
	rproc->name = name;
	rproc->firmware = firmware ? firmware : "rproc-fw";
	rproc->dev.parent = dev;
	rproc->auto_boot = true;
	rproc->state = RPROC_OFFLINE;
	mutex_init(&rproc->lock);
	INIT_LIST_HEAD(&rproc->node);
	return rproc;
}

void rproc_free(struct rproc *rproc)
{
	kfree(rproc->priv);
	kfree(rproc->ops);
	kfree(rproc);
}

static int rproc_fw_boot(struct rproc *rproc, const struct firmware *fw)
{
	int ret;

	if (rproc->ops->prepare) {
		ret = rproc->ops->prepare(rproc);
		if (ret)
			return ret;
	}
	if (rproc->ops->parse_fw) {
		ret = rproc->ops->parse_fw(rproc, fw);
		if (ret)
			goto unprepare;
	}
	if (rproc->ops->load) {
		ret = rproc->ops->load(rproc, fw);
		if (ret)
			goto unprepare;
	}
	__interp_check_op(rproc->ops->start, "start");
	ret = rproc->ops->start(rproc);
	if (ret)
		goto unprepare;
	rproc->state = RPROC_RUNNING;
	return 0;
unprepare:
	if (rproc->ops->unprepare)
		rproc->ops->unprepare(rproc);
	return ret;
}

int rproc_boot(struct rproc *rproc)
{
	const struct firmware *fw = NULL;
	int ret;

	if (!rproc)
		return -EINVAL;
	ret = mutex_lock_interruptible(&rproc->lock);
	if (ret)
		return ret;
	if (rproc->state == RPROC_DELETED) {
		ret = -ENODEV;
		goto unlock;
	}
	if (rproc->power++ > 0) {
		ret = 0;
		goto unlock;
	}
	ret = request_firmware(&fw, rproc->firmware, &rproc->dev);
	if (ret < 0)
		goto downref;
	ret = rproc_fw_boot(rproc, fw);
	release_firmware(fw);
downref:
	if (ret)
		rproc->power--;
unlock:
	mutex_unlock(&rproc->lock);
	return ret;
}

int rproc_shutdown(struct rproc *rproc)
{
	int ret;

	ret = mutex_lock_interruptible(&rproc->lock);
	if (ret)
		return ret;
	if (rproc->state != RPROC_RUNNING && rproc->state != RPROC_ATTACHED) {
		ret = -EINVAL;
		goto out;
	}
	if (--rproc->power > 0) {
		ret = 0;
		goto out;
	}
	__interp_check_op(rproc->ops->stop, "stop");
	ret = rproc->ops->stop(rproc);
	if (ret) {
		rproc->power++;
		goto out;
	}
	rproc->state = RPROC_OFFLINE;
out:
	mutex_unlock(&rproc->lock);
	return ret;
}

static void rproc_auto_boot_callback(const struct firmware *fw, void *context)
{
	struct rproc *rproc = context;

	rproc_boot(rproc);
	release_firmware(fw);
}

int rproc_add(struct rproc *rproc)
{
	mutex_lock(&rproc_list_mutex);
	list_add(&rproc->node, &rproc_list);
	mutex_unlock(&rproc_list_mutex);
	__interp_rproc_sysfs_add(rproc);
	if (rproc->auto_boot)
		return request_firmware_nowait(THIS_MODULE, FW_ACTION_UEVENT, rproc->firmware, &rproc->dev,
					       GFP_KERNEL, rproc, rproc_auto_boot_callback);
	return 0;
}

int rproc_del(struct rproc *rproc)
{
	if (!rproc)
		return -EINVAL;
	__interp_rproc_sysfs_del(rproc);
	rproc_shutdown(rproc);
	mutex_lock(&rproc->lock);
	rproc->state = RPROC_DELETED;
	mutex_unlock(&rproc->lock);
	mutex_lock(&rproc_list_mutex);
	list_del(&rproc->node);
	mutex_unlock(&rproc_list_mutex);
	return 0;
}

static void devm_rproc_free(void *rproc)
{
	rproc_free(rproc);
}

struct rproc *devm_rproc_alloc(struct device *dev, const char *name, const struct rproc_ops *ops,
			       const char *firmware, int len)
{
	struct rproc *rproc = rproc_alloc(dev, name, ops, firmware, len);

	if (rproc)
		__interp_devm_add_action(dev, devm_rproc_free, rproc);
	return rproc;
}

static void devm_rproc_remove(void *rproc)
{
	rproc_del(rproc);
}

int devm_rproc_add(struct device *dev, struct rproc *rproc)
{
	int ret = rproc_add(rproc);

	if (ret)
		return ret;
	return __interp_devm_add_action(dev, devm_rproc_remove, rproc);
}

/* A write of "start" or "stop" to the rproc's sysfs state file. */
static void state_store(struct rproc *rproc, int start)
{
	if (!__interp_rproc_sysfs_present(rproc))
		return;
	if (start) {
		if (rproc->state != RPROC_RUNNING)
			rproc_boot(rproc);
	} else if (rproc->state == RPROC_RUNNING) {
		rproc_shutdown(rproc);
	}
}
`;

const file = (name: string, text: string): SourceFile => ({ path: `<env>/include/linux/${name}`, text });

/** The generic headers shared with the hand model's environment. */
const SHARED = new Set(["bug.h", "types.h", "slab.h"].map((n) => `<env>/include/linux/${n}`));

/** The threaded environment's headers, in the order they are loaded. */
export const THREAD_HEADERS: readonly SourceFile[] = [
  ...ENV_HEADERS.filter((f) => SHARED.has(f.path)),
  file("spinlock.h", LOCKS),
  file("sched.h", SCHED),
  file("device.h", DEVICE),
  file("firmware.h", FIRMWARE),
  file("remoteproc.h", REMOTEPROC),
];
