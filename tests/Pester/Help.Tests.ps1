# The help of every cmdlet must be real, not the stub PowerShell generates: a synopsis, a description, a description
# for every parameter and at least three examples. It reads the compiled help (en-US/ProcessPool.dll-Help.xml beside
# the module); when that is missing or older than docs/help, it is built first from the markdown, as
# 'build.ps1 -Task Docs' does.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $script:commands = (Get-Command -Module ProcessPool -CommandType Cmdlet).Name | Sort-Object
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $module = Get-Module ProcessPool
    $source = Join-Path $RepoRoot 'docs/help/en-US'
    $target = Join-Path $module.ModuleBase 'en-US'
    $compiled = Join-Path $target 'ProcessPool.dll-Help.xml'
    $newestSource = (Get-ChildItem -LiteralPath $source -Filter *.md | Measure-Object -Property LastWriteTimeUtc -Maximum).Maximum
    if (-not (Test-Path -LiteralPath $compiled) -or (Get-Item -LiteralPath $compiled).LastWriteTimeUtc -lt $newestSource) {
        if (-not (Get-Module -ListAvailable platyPS)) { throw "The help is not built and platyPS is not installed: run './build.ps1 -Task Docs'." }
        Import-Module platyPS
        $null = New-ExternalHelp -Path $source -OutputPath $target -Force
    }
    $script:common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
}

Describe 'Help for <_>' -ForEach $commands {
    BeforeDiscovery {
        $parameters = (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin ([System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters) }
    }

    BeforeAll {
        $script:help = Get-Help $_ -Full
    }

    It 'has a synopsis of its own' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -Match ('^' + [regex]::Escape($_) + '\s+\[') -Because 'the generated stub is the syntax line'
    }

    It 'has a description' {
        ($help.Description.Text -join "`n").Trim().Length | Should -BeGreaterThan 40
    }

    It 'has at least three examples, each with code and an explanation' {
        $examples = @($help.Examples.Example)
        $examples.Count | Should -BeGreaterOrEqual 3
        foreach ($example in $examples) {
            $example.Code | Should -Not -BeNullOrEmpty
            ($example.Remarks.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'describes parameter <_>' -ForEach $parameters {
        $parameter = $help.Parameters.Parameter | Where-Object Name -EQ $_
        $parameter | Should -Not -BeNullOrEmpty -Because "the help must document -$_"
        ($parameter.Description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$_ needs a description"
    }
}

Describe 'about_ProcessPool' {
    It 'is installed and explains the semantics' {
        $topic = Get-Help about_ProcessPool | Out-String
        $topic | Should -Match 'at least once'
        $topic | Should -Match 'exactly once'
        $topic | Should -Match 'PoolItemFailed'
    }
}
