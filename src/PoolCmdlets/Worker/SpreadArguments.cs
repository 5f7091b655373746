using System;
using System.Collections;
using System.ComponentModel;
using System.Management.Automation;

namespace ProcessPool.Commands.Worker
{
    /// <summary>
    /// <c>Invoke-PoolMap -Spread</c> inside a worker (public only because the driver script calls it): turns one item
    /// into what the driver splats into the user's block, as Python's <c>starmap</c> spreads a tuple. An array or list
    /// binds by position; a hashtable, or a PSCustomObject (deserialized objects included), binds by name like
    /// splatting a hashtable; any other value is the one positional argument; <c>$null</c> gives no arguments.
    /// Before an item is sent, <see cref="Unwrap"/> takes a one-element array that holds a list as that list.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static class SpreadArguments
    {
        /// <summary>
        /// In the caller, before the item is encoded (for script blocks and methods alike): a one-element array whose
        /// element is itself an array or list is taken as that list. That is what <c>,@(1, 2), ,@(3, 4)</c> sends down
        /// a pipeline (the unary comma, which keeps a pair whole when piped alone, adds a level inside a list), and
        /// the pair is what the user meant. A single array argument is passed by name instead: <c>@{ Values = 1, 2 }</c>.
        /// </summary>
        internal static object? Unwrap(object? item)
        {
            if ((item is PSObject pso ? pso.BaseObject : item) is object?[] outer && outer.Length == 1 &&
                (outer[0] is PSObject inner ? inner.BaseObject : outer[0]) is IList && !(outer[0] is string))
                return outer[0];
            return item;
        }

        /// <summary>An <c>object[]</c> to splat by position, or a <see cref="Hashtable"/> to splat by name.</summary>
        public static object For(object? item)
        {
            object? value = item is PSObject pso ? pso.BaseObject : item;
            switch (value)
            {
                case null:
                    return Array.Empty<object?>();
                case string _:
                    return new[] { item };
                case IDictionary dictionary:
                    var named = new Hashtable(StringComparer.OrdinalIgnoreCase);
                    foreach (DictionaryEntry entry in dictionary) named[Convert.ToString(entry.Key is PSObject key ? key.BaseObject : entry.Key) ?? ""] = entry.Value;
                    return named;
                case IList list:
                    var positional = new object?[list.Count];
                    list.CopyTo(positional, 0);
                    return positional;
                case PSCustomObject _:
                    var properties = new Hashtable(StringComparer.OrdinalIgnoreCase);
                    foreach (var property in ((PSObject)item!).Properties) properties[property.Name] = property.Value;
                    return properties;
                default:
                    return new[] { item };
            }
        }
    }
}
