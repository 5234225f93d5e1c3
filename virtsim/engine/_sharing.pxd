# Static types for compiling _sharing.py with Cython (see setup.py); _sharing.py
# stays the only source, plain Python, and runs as it is where nothing was compiled.
# Entries (child nodes and activity groups) share one base so that a node's split
# reads their fields from C structs; counts are C integers, rates and times doubles.
cimport cython


cdef class Activity:
    cdef public double work, started_at, _tag
    cdef public object on_done, data
    cdef public _Group _group
    cdef public bint _live

cdef class _Entry:
    cdef public double demand, floor, alloc, weight
    cdef public bint queued, is_group

cdef class _Group(_Entry):
    cdef public ShareNode node, parent
    cdef public double max_rate, task_weight, rate, clock, t_clock, t_finish
    cdef public list heap
    cdef public Py_ssize_t n, activation, slot

cdef class ShareNode(_Entry):
    cdef public str name
    cdef public ShareNode parent
    cdef public RateResource resource
    cdef public double cap, reservation, task_weight, total, t_acc, acc_alloc, acc_demand, acc_overload
    cdef public list children, entries, changed
    cdef public dict groups
    cdef public bint open, _has_floors
    cdef public object on_alloc

    @cython.locals(resource=RateResource, now=double, group=_Group, n=Py_ssize_t, tag=double, act=Activity)
    cdef Activity _start(self, double work, double max_rate, object on_done, object data)

@cython.locals(dt=double)
cdef void _account(ShareNode node, double now)

cdef inline bint _earlier(_Group a, _Group b)

cdef class RateResource:
    cdef public object env, on_root_alloc, _pending, _split_policy
    cdef public str name, policy
    cdef public ShareNode root
    cdef public list _plan, _wake_callbacks, _alloc_watch
    cdef public double _pending_time, _planned_time, _knee, _gain, _span
    cdef public _Group _planned_group
    cdef public bint _batch
    cdef public Py_ssize_t _seq, completions, _activations

    @cython.locals(group=_Group)
    cpdef void cancel(self, Activity activity)
    cdef void _resize(self, _Group group, Py_ssize_t n, double now)
    @cython.locals(knee=double, extra=double)
    cdef double _grown(self, double demand)
    @cython.locals(plan=list)
    cdef void _activate(self, _Group group)
    @cython.locals(plan=list, last=_Group, i=Py_ssize_t)
    cdef void _unplan(self, _Group group)
    cdef void _replan(self, _Group group, Py_ssize_t i)
    @cython.locals(plan=list, up=Py_ssize_t, parent=_Group)
    cdef void _sift_up(self, _Group group, Py_ssize_t i)
    @cython.locals(plan=list, size=Py_ssize_t, c=Py_ssize_t, child=_Group, right=_Group)
    cdef void _sift_down(self, _Group group, Py_ssize_t i)
    @cython.locals(entries=list, demand=double, e=_Entry, dt=double, floor=double, parent=ShareNode)
    cdef void _propagate(self, ShareNode node, double now)
    @cython.locals(alloc=double, dt=double)
    cdef void _settle(self, ShareNode start, double now)
    @cython.locals(changed=list, e=_Entry, uncontended=bint, entries=list, i=Py_ssize_t)
    cdef void _distribute(self, ShareNode node, double amount, double now)
    @cython.locals(g=_Group, child=ShareNode, clock=double, rate=double, n=Py_ssize_t, t_finish=double)
    cdef void _visit(self, _Entry e, double a, double now)
    cdef object _split(self, ShareNode node, double amount, list demands)
    @cython.locals(best=double, best_group=_Group, g=_Group, delay=double)
    cdef void _plan_wakeup(self, double now)
    @cython.locals(watched=list, node=ShareNode)
    cdef void _notify(self, double now)
    @cython.locals(now=double, forced=_Group, finished=list, horizon=double, others=list, g=_Group)
    cpdef _wake(self, object event)
    @cython.locals(heap=list, clock=double, popped=Py_ssize_t, tag=double, act=Activity)
    cdef void _complete(self, _Group g, bint forced, double now, list finished)
    @cython.locals(plan=list, g=_Group)
    cdef bint _due_below_top(self, double horizon)
    @cython.locals(plan=list, size=Py_ssize_t, others=list, todo=list, i=Py_ssize_t, g=_Group)
    cdef list _due_besides(self, _Group forced, double horizon)
