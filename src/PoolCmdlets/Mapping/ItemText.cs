using System;
using System.IO;
using System.Management.Automation;
using ProcessPool.Engine;

namespace ProcessPool.Commands.Mapping
{
    /// <summary>
    /// Short forms of input objects for messages, as PowerShell would spell them: <c>$null</c>, <c>'beta'</c>, <c>3</c>,
    /// a file by its name, anything else by its PowerShell string form (<c>@{Name=x; Id=1}</c>), cut to
    /// <see cref="ItemNames.MaxShortForm"/> characters. Completes the engine's "item #3" into "item #3 (3)".
    /// </summary>
    internal static class ItemText
    {
        public static string ShortForm(object? item)
        {
            object? value = item is PSObject pso ? pso.BaseObject : item;
            switch (value)
            {
                case null:
                    return "$null";
                case string _:
                case char _:
                case IFormattable _ when value.GetType().IsPrimitive || value is decimal || value is DateTime || value is Guid || value is TimeSpan:
                    return ItemNames.ShortForm(value);
                case FileSystemInfo file:
                    return ItemNames.ShortForm(file.Name);
                default:
                    string text;
                    try { text = (item as PSObject ?? PSObject.AsPSObject(value)).ToString(); }
                    catch (Exception) { text = value.GetType().Name; } // a failing ToString must not hide the item's real failure
                    return ItemNames.Cut(text, ItemNames.MaxShortForm);
            }
        }

        /// <summary>Completes the item's name in the message of an item failure with the input object's short form.</summary>
        public static void Name(Exception? error, object? item)
        {
            if (error is PoolItemException named) named.NameItem(ShortForm(item));
        }
    }
}
