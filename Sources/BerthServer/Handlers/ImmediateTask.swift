import Builtin

/// Starts a task that runs on the calling thread until it first suspends: `Task.immediate`
/// for a nonisolated operation, without the task-executor preference `Task.immediate` records.
///
/// Why not `Task.immediate` itself: in this Swift release it hands the runtime its
/// `executorPreference` argument even when that is nil, and the runtime then marks the task as
/// having a preference. From then on every executor check of the task (`swift_task_switch`, on
/// entry to each nonisolated async function of the app call: the loader's, the app library's,
/// the router's, the handler's) takes the task's status lock to look for a preference that is
/// not there. That was 4 % of a worker's CPU on `GET /hello` (0.65 µs of user CPU per
/// request, measured side by side). The task group's `addImmediateTask` skips the argument when it is
/// nil; this does the same for a task of its own.
///
/// What it relies on, from the Swift runtime this is built with: the task-creation flags
/// `Task.immediate` passes (`taskCreateFlags` in the standard library: copy task locals,
/// inherit context, synchronous start) and `swift_task_immediate`, which runs the new task
/// here. The app tests (inline answers, task locals, cancellation) cover its behaviour.
func startImmediately(_ operation: sending @escaping () async -> Void) -> Task<Void, Never> {
    let copyTaskLocals = 1 << 10, inheritContext = 1 << 11, isSynchronousStart = 1 << 16
    let task = Builtin.createTask(
        flags: copyTaskLocals | inheritContext | isSynchronousStart, initialSerialExecutor: nil, operation: operation
    ).0
    runImmediately(task, targetExecutor: nil)
    // `Task` is a struct around this one reference.
    return unsafeBitCast(task, to: Task<Void, Never>.self)
}

@_silgen_name("swift_task_immediate")
private func runImmediately(_ task: Builtin.NativeObject, targetExecutor: Builtin.Executor?)
