namespace Microsoft.ML.Perturbed.Threading;

/// <summary>A small lock-protected pool of reusable objects (workspaces, jobs): no allocation once warm.</summary>
internal sealed class ObjectPool<T>(Func<T> create) where T : class
{
    private readonly Stack<T> _items = new();

    public T Rent()
    {
        lock (_items)
        {
            if (_items.Count > 0)
            {
                return _items.Pop();
            }
        }
        return create();
    }

    public void Return(T item)
    {
        lock (_items)
        {
            _items.Push(item);
        }
    }
}
