using System;
using ProcessPool.Engine.Codec;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    public sealed class ItemNamesTests
    {
        [Theory]
        [InlineData(2L, "3", "item #3 (3)")]
        [InlineData(1L, "'beta'", "item #2 ('beta')")]
        [InlineData(0L, null, "item #1")]
        public void Name_CountsFromOneAndAddsTheShortForm(long sequence, string? shortForm, string expected) =>
            Assert.Equal(expected, ItemNames.Name(sequence, shortForm));

        [Fact]
        public void ShortForm_QuotesStringsAsPowerShellDoes_AndWritesNumbersInvariantly()
        {
            Assert.Equal("'it''s'", ItemNames.ShortForm("it's"));
            Assert.Equal("1.5", ItemNames.ShortForm(1.5));
            Assert.Equal("null", ItemNames.ShortForm(null));
        }

        [Fact]
        public void ShortForm_LongOrMultiLineText_IsCutToOneShortLine()
        {
            string form = ItemNames.ShortForm(new string('x', 100) + "\nmore");
            Assert.Equal(ItemNames.MaxShortForm, form.Length);
            Assert.EndsWith("\u2026'", form);
            Assert.DoesNotContain('\n', ItemNames.ShortForm("a\nb"));
        }

        [Fact]
        public void Cut_NeverSplitsASurrogatePair()
        {
            string text = new string('x', 9) + "\U0001F600" + "tail";
            string cut = ItemNames.Cut(text, 10);
            Assert.False(ItemCodec.HasLoneSurrogate(cut));
        }

        [Fact]
        public void Message_OfAnItemFailure_StartsWithTheItemsName()
        {
            var error = new WorkerTerminatedException(2, "killed its worker every time it ran: worker 1 (pid 5) ended with exit code 3.", 3, null);
            Assert.Equal("Item #3 killed its worker every time it ran: worker 1 (pid 5) ended with exit code 3.", error.Message);
            Assert.Equal(3, error.ItemNumber);
            error.NameItem("3");
            Assert.StartsWith("Item #3 (3) killed its worker", error.Message);
        }
    }
}
