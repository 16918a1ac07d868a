#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>

struct link { struct link *next, *prev; };
struct entry { int key; const char *name; struct link node; };

#define entry_of(ptr) ((struct entry *)((char *)(ptr) - offsetof(struct entry, node)))

static void link_init(struct link *h) { h->next = h; h->prev = h; }
static void link_after(struct link *n, struct link *at)
{
	n->next = at->next;
	n->prev = at;
	at->next->prev = n;
	at->next = n;
}
static void unlink_node(struct link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

static void insert_sorted(struct link *head, struct entry *e)
{
	struct link *pos = head;

	while (pos->next != head && entry_of(pos->next)->key < e->key)
		pos = pos->next;
	link_after(&e->node, pos);
}

static void dump(const struct link *head)
{
	for (const struct link *p = head->next; p != head; p = p->next)
		printf("%d:%s ", entry_of(p)->key, entry_of(p)->name);
	printf("\n");
}

int main(void)
{
	static const char *names[] = { "zero", "one", "two", "three", "four", "five", "six" };
	static const int keys[] = { 5, 1, 4, 6, 2, 0, 3 };
	struct link head;

	link_init(&head);
	for (int i = 0; i < 7; i++) {
		struct entry *e = malloc(sizeof(*e));
		e->key = keys[i];
		e->name = names[keys[i]];
		insert_sorted(&head, e);
	}
	dump(&head);
	for (struct link *p = head.next, *n = p->next; p != &head; p = n, n = p->next) {
		struct entry *e = entry_of(p);
		if (e->key % 2) {
			unlink_node(p);
			free(e);
		}
	}
	dump(&head);
	int count = 0;
	while (head.next != &head) {
		struct entry *e = entry_of(head.next);
		unlink_node(&e->node);
		count += e->key;
		free(e);
	}
	printf("%d %d\n", count, head.next == &head);
	return 0;
}
