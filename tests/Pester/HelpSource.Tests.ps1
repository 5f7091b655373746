# The compiled help in module/en-US is generated from the PlatyPS markdown in docs/help/en-US (build.ps1 -Task Docs,
# where platyPS is installed) and committed, so the module ships help without PlatyPS at build time. These tests catch
# drift between the two on any machine: a markdown edit whose compiled help was not regenerated fails here.

BeforeDiscovery {
    $script:markdownFiles = Get-ChildItem -Path (Join-Path $PSScriptRoot '../../docs/help/en-US') -Filter '*.md' |
        Where-Object Name -NotLike 'about_*' | ForEach-Object { @{ Name = $_.BaseName; Path = $_.FullName } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:compiledDir = Join-Path $RepoRoot 'module/en-US'
    [xml] $script:maml = Get-Content -LiteralPath (Join-Path $compiledDir 'ProcessPool.dll-Help.xml') -Raw
    $script:ns = [System.Xml.XmlNamespaceManager]::new($maml.NameTable)
    $ns.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
    $ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')

    # Whitespace folded, so that rewrapped lines compare equal.
    function Get-Words([string[]] $Text) { (($Text -join ' ') -split '\s+' | Where-Object { $_ }) -join ' ' }

    # The lines of one '## HEADING' section of a PlatyPS markdown file.
    function Get-Section([string[]] $Lines, [string] $Heading) {
        $start = [array]::IndexOf($Lines, "## $Heading")
        if ($start -lt 0) { return @() }
        $section = foreach ($line in $Lines[($start + 1)..($Lines.Count - 1)]) { if ($line -match '^## ') { break }; $line }
        @($section)
    }

    function Get-CompiledCommand([string] $Name) {
        $maml.SelectSingleNode("//command:command[command:details/command:name = '$Name']", $ns)
    }
}

Describe 'Compiled help of <Name>' -ForEach $markdownFiles {
    BeforeAll {
        $script:lines = Get-Content -LiteralPath $Path
        $script:command = Get-CompiledCommand $Name
    }

    It 'is in the committed MAML' {
        $command | Should -Not -BeNullOrEmpty -Because "docs/help/en-US/$Name.md has no compiled counterpart: run ./build.ps1 -Task Docs"
    }

    It 'has the synopsis of the markdown' {
        $synopsis = $command.SelectNodes('command:details/maml:description/maml:para', $ns) | ForEach-Object InnerText
        Get-Words $synopsis | Should -Be (Get-Words (Get-Section $lines 'SYNOPSIS'))
    }

    It 'has the description of the markdown' {
        $description = $command.SelectNodes('maml:description/maml:para', $ns) | ForEach-Object InnerText
        Get-Words $description | Should -Be (Get-Words (Get-Section $lines 'DESCRIPTION'))
    }

    It 'has the parameters of the markdown' {
        $documented = (Get-Section $lines 'PARAMETERS') -match '^### -' -replace '^### -' | Sort-Object
        $compiled = $command.SelectNodes('command:parameters/command:parameter/maml:name', $ns) | ForEach-Object InnerText | Sort-Object
        $compiled | Should -Be $documented
    }

    It 'has the examples of the markdown' {
        $documented = (Get-Section $lines 'EXAMPLES') -match '^### ' -replace '^### '
        $compiled = $command.SelectNodes('command:examples/command:example/maml:title', $ns) | ForEach-Object { $_.InnerText.Trim('- ') }
        $compiled | Should -Be $documented
    }
}

Describe 'Compiled help' {
    It 'has no cmdlet that the markdown lacks' {
        $compiled = $maml.SelectNodes('//command:command/command:details/command:name', $ns) | ForEach-Object InnerText | Sort-Object
        $documented = Get-ChildItem -Path (Join-Path $RepoRoot 'docs/help/en-US') -Filter '*.md' | Where-Object Name -NotLike 'about_*' |
            ForEach-Object BaseName | Sort-Object
        $compiled | Should -Be $documented
    }

    It 'has the about_ProcessPool text of the markdown' {
        # PlatyPS rewraps paragraphs, drops code fences, heading marks (not comments inside code) and the title lines,
        # and spells the topic name in lower case.
        $inCode = $false
        $markdown = Get-Content -LiteralPath (Join-Path $RepoRoot 'docs/help/en-US/about_ProcessPool.md') |
            Select-Object -Skip 2 | ForEach-Object {
                if ($_ -match '^```') { $inCode = -not $inCode }
                elseif ($inCode) { $_ }
                else { $_ -replace '^#+ ' }
            }
        $text = Get-Content -LiteralPath (Join-Path $compiledDir 'about_ProcessPool.help.txt') -Encoding UTF8 | Select-Object -Skip 2
        Get-Words $text | Should -Be (Get-Words $markdown)
    }
}
