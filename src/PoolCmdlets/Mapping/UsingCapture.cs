using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;
using ProcessPool.Commands.Worker;

namespace ProcessPool.Commands.Mapping
{
    /// <summary>
    /// <c>$using:</c> for process workers: the values are taken from the caller's session when the map starts, and
    /// each <c>$using:name</c> in the text is rewritten to a plain variable (<c>${__ppUsing0}</c>, ...) that the
    /// worker's driver defines, so the worker runs ordinary script. Braces keep the stand-in valid inside strings
    /// (<c>"$using:x"</c>) and before indexes and members (<c>$using:x[0]</c>, <c>$using:x.Name</c>).
    /// A <c>$using:</c> belongs to the nearest enclosing command that runs its block elsewhere, as in
    /// <c>ForEach-Object -Parallel</c>: those inside a block given to a nested <c>Invoke-PoolMap</c>,
    /// <c>ForEach-Object -Parallel</c>, <c>Start-Job</c>, <c>Start-ThreadJob</c> or <c>Invoke-Command</c>, or inside a
    /// block kept in a variable (to be handed to such a command later), are left for that command to capture in the worker.
    /// </summary>
    internal static class UsingCapture
    {
        /// <summary>The script text to send (the block's body, without its braces) and the values of its <c>$using:</c> variables.</summary>
        public static (string Script, object?[] Values) Rewrite(ScriptBlock block, SessionState session)
        {
            var body = block.Ast switch
            {
                FunctionDefinitionAst function => function.Body,
                ScriptBlockAst ast => ast,
                var other => throw new ArgumentException($"Unexpected script block syntax: {other.GetType().Name}."),
            };
            string text = body.Extent.Text;
            int baseOffset = body.Extent.StartOffset;
            var usings = body.FindAll(a => a is UsingExpressionAst u && BelongsToThisLevel(u, body), searchNestedScriptBlocks: true)
                .Cast<UsingExpressionAst>().OrderBy(u => u.Extent.StartOffset).ToList();

            var indexes = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            var values = new List<object?>();
            var rewritten = new StringBuilder(text.Length + usings.Count * 8);
            int copied = 0;
            foreach (var expression in usings)
            {
                var variable = UsingExpressionAst.ExtractUsingVariable(expression);
                string name = variable.VariablePath.UserPath;
                if (!indexes.TryGetValue(name, out int index))
                {
                    index = values.Count;
                    indexes[name] = index;
                    values.Add(Lookup(session, variable, block));
                }
                // Only the variable is replaced: in $using:x.Name or $using:x[0] the member or index is then taken in the worker.
                int start = variable.Extent.StartOffset - baseOffset, end = variable.Extent.EndOffset - baseOffset;
                rewritten.Append(text, copied, start - copied).Append("${").Append(ScriptPayload.UsingVariableName(index)).Append('}');
                copied = end;
            }
            rewritten.Append(text, copied, text.Length - copied);

            string script = rewritten.ToString();
            // A literal block's text includes its braces; a block made from a string ([scriptblock]::Create, a file) does not.
            if (body.Parent != null && script.Length >= 2 && script[0] == '{' && script[script.Length - 1] == '}')
                script = script.Substring(1, script.Length - 2);
            return (script, values.ToArray());
        }

        /// <summary>Commands whose script block runs in another runspace or process, so its <c>$using:</c> are theirs.</summary>
        private static readonly HashSet<string> ElsewhereCommands = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "Invoke-PoolMap", "Start-Job", "sajb", "Start-ThreadJob", "Invoke-Command", "icm",
        };

        private static readonly HashSet<string> ForEachNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "ForEach-Object", "foreach", "%" };

        /// <summary>False when a script block between <paramref name="expression"/> and <paramref name="body"/> is run elsewhere or kept for later.</summary>
        private static bool BelongsToThisLevel(UsingExpressionAst expression, Ast body)
        {
            for (Ast? node = expression.Parent; node != null && node != body; node = node.Parent)
            {
                if (node is not ScriptBlockExpressionAst block) continue;
                var parent = block.Parent is CommandParameterAst parameter ? parameter.Parent : block.Parent;
                if (parent is CommandAst command && RunsElsewhere(command)) return false;
                // $inner = { ... }: the block is a value, most often handed to a nested command later.
                if (block.Parent is CommandExpressionAst { Parent: AssignmentStatementAst }) return false;
            }
            return true;
        }

        private static bool RunsElsewhere(CommandAst command)
        {
            string? name = command.GetCommandName();
            if (name == null) return false;
            int slash = name.LastIndexOf('\\');
            if (slash >= 0) name = name.Substring(slash + 1);
            if (ElsewhereCommands.Contains(name)) return true;
            return ForEachNames.Contains(name) && command.CommandElements.OfType<CommandParameterAst>()
                .Any(p => p.ParameterName.Length >= 2 && "Parallel".StartsWith(p.ParameterName, StringComparison.OrdinalIgnoreCase));
        }

        private static object? Lookup(SessionState session, VariableExpressionAst variable, ScriptBlock block)
        {
            var path = variable.VariablePath;
            if (path.IsDriveQualified)
            {
                // $using:env:NAME and friends: read through the provider, as the variable syntax does.
                System.Collections.ObjectModel.Collection<PSObject> items;
                try { items = session.InvokeProvider.Item.Get(path.UserPath); }
                catch (Exception error) when (error is ItemNotFoundException || error is DriveNotFoundException || error is ProviderNotFoundException)
                {
                    throw new UsingVariableException(path.UserPath);
                }
                if (items.Count == 0) throw new UsingVariableException(path.UserPath);
                object value = items[0].BaseObject;
                return value is System.Collections.DictionaryEntry entry ? entry.Value : value;
            }
            var found = session.PSVariable.Get(path.UserPath);
            if (found == null) throw new UsingVariableException(path.UserPath);
            return found.Value;
        }
    }

    /// <summary>A <c>$using:</c> variable that the caller does not have.</summary>
    internal sealed class UsingVariableException : Exception
    {
        public UsingVariableException(string name) : base($"No variable '{name}' exists in the caller's scope.") => VariableName = name;

        public string VariableName { get; }
    }
}
