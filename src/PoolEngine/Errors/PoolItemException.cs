namespace ProcessPool.Engine
{
    /// <summary>
    /// Base of the failures the pool reports for one item (<see cref="ItemTimeoutException"/>,
    /// <see cref="WorkerTerminatedException"/>). The message starts with the item's name, "Item #3" (its 1-based
    /// position in the input), which whoever holds the input object completes with a short form of it
    /// (<see cref="NameItem"/>): "Item #3 (3) ran longer than 5 s; ...".
    /// </summary>
    public abstract class PoolItemException : PoolException
    {
        private readonly string? _rest;

        /// <summary>Creates the exception with a message that names no item.</summary>
        protected PoolItemException(string message) : base(message) => Sequence = -1;

        /// <summary>Creates the exception for the item at <paramref name="sequence"/> (from 0); <paramref name="rest"/> follows its name in the message.</summary>
        protected PoolItemException(long sequence, string rest) : base(rest)
        {
            Sequence = sequence;
            _rest = rest;
            ItemName = ItemNames.Name(sequence, null);
        }

        /// <summary>The item's position in the input from 0 (as <see cref="ItemResult.Sequence"/>), or -1 when unknown.</summary>
        public long Sequence { get; }

        /// <summary>The item's position in the input from 1, as messages and the job log give it; 0 when unknown.</summary>
        public long ItemNumber => Sequence + 1;

        /// <summary>How the message names the item: "item #3", or "item #3 (3)" once <see cref="NameItem"/> gave its short form.</summary>
        public string? ItemName { get; private set; }

        /// <inheritdoc />
        public override string Message => _rest == null ? base.Message : ItemNames.Capitalized(ItemName!) + " " + _rest;

        /// <summary>Adds a short form of the input object to the item's name (see <see cref="ItemNames.ShortForm"/>). Call before the exception is shown; not thread-safe.</summary>
        public void NameItem(string? shortForm)
        {
            if (Sequence >= 0) ItemName = ItemNames.Name(Sequence, shortForm);
        }
    }
}
