"""The 抽取 screen: the task chooser (``tab``), a session's page (``session``) with its dialogs
(``dialogs``), the live state (``controller``), the public stage painted (``paint``) on the operator's
preview and the projector window (``projector``), and what the stage shows, without Qt (``stage``)."""
