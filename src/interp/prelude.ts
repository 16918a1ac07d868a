/**
 * The interpreter's prelude: the kernel's idioms that are macros or inline helpers of its headers, written
 * here in C (by this project, not taken from the kernel) so that the preprocessor and the interpreter run
 * them as the kernel's own code would: base typedefs, errno values, ERR_PTR and friends, BIT/GENMASK,
 * container_of, the list API and its iterators, guard()/scoped_guard(), and the module and export macros
 * (which leave a record of the driver a file registers). What needs the C's types rather than its values
 * (`typeof` in the list iterators, the lock of a guard) is a built-in of builtins.ts that these macros call.
 *
 * Trace steps of calls made from here name the line of the posted code that used the idiom.
 */

export const PRELUDE_PATH = "<interp-prelude>";

export const PRELUDE = String.raw`
typedef signed char s8;
typedef unsigned char u8;
typedef short s16;
typedef unsigned short u16;
typedef int s32;
typedef unsigned int u32;
typedef long long s64;
typedef unsigned long long u64;
typedef s8 __s8;
typedef u8 __u8;
typedef s16 __s16;
typedef u16 __u16;
typedef s32 __s32;
typedef u32 __u32;
typedef s64 __s64;
typedef u64 __u64;
typedef u16 __le16;
typedef u32 __le32;
typedef u64 __le64;
typedef u16 __be16;
typedef u32 __be32;
typedef u64 __be64;
typedef u64 phys_addr_t;
typedef u64 dma_addr_t;
/* stdarg.h: a va_list is the interpreter's object for a call's variadic arguments (va_start). */
typedef void *va_list;
typedef u64 resource_size_t;
typedef unsigned int gfp_t;
typedef long long loff_t;

#define NULL ((void *)0)

#define __iomem
#define __force
#define __user
#define __rcu
#define __percpu
#define __must_check
#define __maybe_unused
#define __always_unused
#define __always_inline inline
#define noinline
#define __init
#define __exit
#define __initdata
#define __ro_after_init
#define __read_mostly
#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define notrace
#define fallthrough do {} while (0)
#define likely(x) (!!(x))
#define unlikely(x) (!!(x))
#define __builtin_expect(x, v) (x)
#define READ_ONCE(x) (x)
#define WRITE_ONCE(x, v) ((x) = (v))

#define GFP_KERNEL 0xcc0u
#define GFP_ATOMIC 0x820u
#define GFP_DMA 0x1u
#define __GFP_ZERO 0x100u

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define ENODATA 61
#define ETIME 62
#define EOVERFLOW 75
#define EBADMSG 74
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
#define EALREADY 114
#define EINPROGRESS 115
#define ECANCELED 125
#define ERESTARTSYS 512
#define EPROBE_DEFER 517
#define ENOTSUPP 524

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR_VALUE((unsigned long)ptr); }
static inline void *ERR_CAST(const void *ptr) { return (void *)ptr; }
static inline int PTR_ERR_OR_ZERO(const void *ptr) { return IS_ERR(ptr) ? (int)PTR_ERR(ptr) : 0; }

#define BIT(nr) (1UL << (nr))
#define BIT_ULL(nr) (1ULL << (nr))
#define GENMASK(h, l) (((~0UL) << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l) (((~0ULL) << (l)) & (~0ULL >> (63 - (h))))
/* include/linux/bitfield.h: a register field by its mask (a non-zero constant), shifted to bit 0 and back. */
#define __bf_shf(mask) __builtin_ctzll(mask)
#define FIELD_PREP(mask, val) ((((unsigned long long)(val)) << __bf_shf(mask)) & (mask))
#define FIELD_GET(mask, reg) (((reg) & (mask)) >> __bf_shf(mask))
#define FIELD_FIT(mask, val) (!((((unsigned long long)(val)) << __bf_shf(mask)) & ~(unsigned long long)(mask)))
#define FIELD_MAX(mask) ((mask) >> __bf_shf(mask))
#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))
#define min_t(type, x, y) min((type)(x), (type)(y))
#define max_t(type, x, y) max((type)(x), (type)(y))
#define clamp(val, lo, hi) min(max(val, lo), hi)
#define struct_size(p, member, count) (sizeof(*(p)) + (count) * sizeof(*(p)->member))
#define sizeof_field(type, member) sizeof(((type *)0)->member)
#define upper_32_bits(n) ((u32)(((u64)(n)) >> 32))
#define lower_32_bits(n) ((u32)((n) & 0xffffffff))
#define ALIGN(x, a) (((x) + ((a) - 1)) & ~((a) - 1))

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_POISON1 ((void *)0xdead000000000100UL)
#define LIST_POISON2 ((void *)0xdead000000000122UL)
#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}

static inline void __list_link(struct list_head *entry, struct list_head *prev, struct list_head *next)
{
	next->prev = entry;
	entry->next = next;
	entry->prev = prev;
	prev->next = entry;
}

static inline void list_add(struct list_head *entry, struct list_head *head)
{
	__list_change(head);
	__list_link(entry, head, head->next);
}

static inline void list_add_tail(struct list_head *entry, struct list_head *head)
{
	__list_change(head);
	__list_link(entry, head->prev, head);
}

static inline void __list_unlink(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
}

static inline void list_del(struct list_head *entry)
{
	__list_change(entry);
	__list_unlink(entry);
	entry->next = LIST_POISON1;
	entry->prev = LIST_POISON2;
}

static inline void list_del_init(struct list_head *entry)
{
	__list_change(entry);
	__list_unlink(entry);
	INIT_LIST_HEAD(entry);
}

static inline void list_move(struct list_head *entry, struct list_head *head)
{
	__list_change(entry, head);
	__list_unlink(entry);
	list_add(entry, head);
}

static inline void list_move_tail(struct list_head *entry, struct list_head *head)
{
	__list_change(entry, head);
	__list_unlink(entry);
	list_add_tail(entry, head);
}

static inline int list_empty(const struct list_head *head)
{
	return head->next == head;
}

static inline int list_is_singular(const struct list_head *head)
{
	return !list_empty(head) && head->next == head->prev;
}

static inline int list_is_last(const struct list_head *entry, const struct list_head *head)
{
	return entry->next == head;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_last_entry(ptr, type, member) list_entry((ptr)->prev, type, member)
#define list_first_entry_or_null(ptr, type, member) (list_empty(ptr) ? NULL : list_first_entry(ptr, type, member))
#define list_next_entry(pos, member) __container_of_var(pos, (pos)->member.next, member)
#define list_prev_entry(pos, member) __container_of_var(pos, (pos)->member.prev, member)
#define list_entry_is_head(pos, head, member) (&(pos)->member == (head))
/* A walk: __list_walk() tells an environment watching lists that it starts; it ends with this scope (a break too). */
#define __list_walking(head) \
	for (int __list_walk_once = __list_walk(head); __list_walk_once; __list_walk_once = 0)
#define list_for_each(pos, head) __list_walking(head) for (pos = (head)->next; pos != (head); pos = pos->next)
#define list_for_each_safe(pos, n, head) __list_walking(head) for (pos = (head)->next, n = pos->next; pos != (head); pos = n, n = pos->next)
#define list_for_each_entry(pos, head, member) \
	__list_walking(head) for (pos = __container_of_var(pos, (head)->next, member); !list_entry_is_head(pos, head, member); \
	     pos = list_next_entry(pos, member))
#define list_for_each_entry_reverse(pos, head, member) \
	__list_walking(head) for (pos = __container_of_var(pos, (head)->prev, member); !list_entry_is_head(pos, head, member); \
	     pos = list_prev_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member) \
	__list_walking(head) for (pos = __container_of_var(pos, (head)->next, member), n = list_next_entry(pos, member); \
	     !list_entry_is_head(pos, head, member); pos = n, n = list_next_entry(n, member))

#define guard(_name) __guard_enter_##_name
#define scoped_guard(_name, ...) \
	for (int __scoped_guard_once = (__guard_enter_##_name(__VA_ARGS__), 1); __scoped_guard_once; \
	     __scoped_guard_once = 0)

/*
 * cleanup.h: a variable whose class's free function runs at the end of its scope (a return and a goto out of
 * it too), unless no_free_ptr() or return_ptr() took its value; the classes of slab.h, of.h and device.h.
 */
#define __cleanup(func) __attribute__((cleanup(func)))
#define __free(_name) [[gnu::cleanup(__free_##_name)]]
#define DEFINE_FREE(_name, _type, _free) \
	static inline void __free_##_name(void *__slot) { _type _T = *(_type *)__slot; _free; }
#define no_free_ptr(p) __no_free_ptr(p)
#define return_ptr(p) return __no_free_ptr(p)
DEFINE_FREE(kfree, void *, if (_T != NULL && !IS_ERR(_T)) kfree(_T))
DEFINE_FREE(device_node, struct device_node *, if (_T != NULL) of_node_put(_T))
DEFINE_FREE(put_device, struct device *, if (_T != NULL) put_device(_T))

#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)
#define MODULE_LICENSE(x)
#define MODULE_AUTHOR(x)
#define MODULE_DESCRIPTION(x)
#define MODULE_ALIAS(x)
#define MODULE_IMPORT_NS(x)
#define MODULE_DEVICE_TABLE(type, name)
#define of_match_ptr(ptr) (ptr)
#define module_driver(__driver, __register, __unregister, ...) \
	static void *const __interp_module_driver_##__register = &(__driver)
#define module_platform_driver(__driver) \
	module_driver(__driver, platform_driver_register, platform_driver_unregister)
#define module_init(fn) static void *const __interp_module_init = fn
#define module_exit(fn) static void *const __interp_module_exit = fn
`;
