/// Timers for one event loop: a binary heap of deadlines. Cancelling removes the action from a
/// dictionary; a popped deadline whose action is gone is skipped, so cancel is O(1).
struct TimerQueue {
    private struct Entry {
        let deadline: UInt64
        let id: UInt64
    }

    private var heap: [Entry] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1

    var count: Int { actions.count }

    mutating func schedule(at deadline: UInt64, _ action: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        actions[id] = action
        heap.append(Entry(deadline: deadline, id: id))
        siftUp(heap.count - 1)
        return TimerID(raw: id)
    }

    mutating func cancel(_ timer: TimerID) {
        actions[timer.raw] = nil
    }

    /// The earliest live deadline, dropping cancelled heads.
    mutating func nextDeadline() -> UInt64? {
        while let head = heap.first {
            if actions[head.id] != nil { return head.deadline }
            popHead()
        }
        return nil
    }

    /// Removes and returns the actions due at `now`, earliest first.
    mutating func due(at now: UInt64) -> [() -> Void] {
        var result: [() -> Void] = []
        while let head = heap.first, head.deadline <= now {
            popHead()
            if let action = actions.removeValue(forKey: head.id) { result.append(action) }
        }
        return result
    }

    private mutating func popHead() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count && heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

public struct TimerID: Hashable, Sendable {
    let raw: UInt64
}
